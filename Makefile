# The two commands: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1

.PHONY: run test install lint bench clean

$(BIN)/python:
	$(PYTHON) -c 'import sys; assert sys.version_info >= (3, 11), "Python 3.11 or newer is needed"'
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[test]'
	touch $@

install: $(VENV)/.installed

# LIMS_ENV=development: the demo is served over plain http, so its cookies cannot be Secure.
run: install
	$(BIN)/flask --app lims db upgrade
	$(BIN)/flask --app lims demo load
	@echo ""
	@echo "  Dystonia Biobank LIMS on http://$(HOST):$(PORT)"
	@echo "  Demo logins (password biobank-demo): admin, tech, tech-eu, investigator, reviewer"
	@echo ""
	LIMS_ENV=development $(BIN)/flask --app lims run --host $(HOST) --port $(PORT)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

# One pytest worker per core, at most 4 (each starts its own PostgreSQL cluster); TEST_WORKERS=0
# runs in this process.
TEST_WORKERS ?= auto
test: lint
	$(BIN)/pytest -n $(TEST_WORKERS) --maxprocesses 4 --dist loadscope

# Every benchmark at the sizes docs/benchmarks.md reports (about an hour on 2 shared cores).
bench: install
	$(BIN)/python bench/labels.py
	$(BIN)/python bench/manifest.py
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/inventory.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
