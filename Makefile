# The two commands: `make run` serves the demo, `make test` runs the whole suite.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1

.PHONY: run test install lint bench bench-smoke clean

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

# Every benchmark at the sizes docs/benchmarks.md reports (hours on 2 cores; the consortium-scale
# ones, bench/scale.py and bench/load.py, are run by hand as docs/benchmarks.md says).
bench: install
	$(BIN)/python bench/labels.py
	$(BIN)/python bench/manifest.py
	$(BIN)/python bench/imports.py
	$(BIN)/python bench/inventory.py
	$(BIN)/python bench/audit_trail.py
	$(BIN)/python bench/phenotype_import.py
	$(BIN)/python bench/feasibility.py
	$(BIN)/python bench/audit_size.py
	$(BIN)/python bench/generate.py

# Every benchmark once at a tiny size, on SQLite and PostgreSQL, so none rots: CI runs this after
# the suite (.ci/run). The figures mean nothing at this size; a crash or a wrong count fails.
# bench/scale.py, bench/load.py and bench/generate.py on SQLite also run inside the suite
# (tests/test_bench_scale.py, tests/infra/test_load_bench.py, tests/test_bench_generate.py).
bench-smoke: install
	$(BIN)/python bench/labels.py --count 5 --repeat 1
	$(BIN)/python bench/manifest.py --count 20 --repeat 1
	$(BIN)/python bench/imports.py --count 200 --strawman-count 20 --warm-up 20 --repeat 1
	$(BIN)/python bench/inventory.py --count 500 --repeat 1 --deep-page 2 --strawman-export 100
	$(BIN)/python bench/audit_trail.py --events 200 --repeat 1
	$(BIN)/python bench/phenotype_import.py --subjects 20 --events 60 --baseline-events 60
	$(BIN)/python bench/feasibility.py --subjects 20 --repeat 1
	$(BIN)/python bench/audit_size.py --sizes 200,400 --repeat 1
	$(BIN)/python bench/generate.py --subjects 3 --db postgresql

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
