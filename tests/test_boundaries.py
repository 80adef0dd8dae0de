"""The architecture in docs/dev/architecture.md, enforced: features import only the features they
build on, the shared modules import no feature, and the plain libraries import neither Flask,
SQLAlchemy nor the application.

Imports are read with ast from every module, at module level and inside functions alike (a
function-level import is still a dependency; it only hides a cycle until the function runs).
"""

from __future__ import annotations

import ast
import tomllib
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
LIMS = ROOT / "lims"

# What each feature builds on, as docs/dev/architecture.md draws it; a feature may import these
# and, through them, everything they build on. The audit trail is the bottom layer: every
# feature records through it (auth included) and it imports none.
BUILDS_ON: dict[str, set[str]] = {
    "audit": set(),
    "auth": {"audit"},
    "specimens": {"auth"},
    "storage": {"specimens"},
    "labels": {"storage"},
    "phenotype": {"specimens"},  # issue 17
    "shipments": {"storage", "labels"},  # issue 18
    "requests": {"phenotype", "shipments"},  # issue 19
}
# Shared modules every feature may import; they import no feature themselves.
SHARED = {"actors", "bulk_copy", "db", "errors", "web"}
# The application around the features: they may import any feature, and no feature imports them.
APPLICATION = {
    "__init__",
    "cli",
    "demo",
    "demo_phenotype",
    "demo_requests",
    "demo_scale",
    "demo_scale_phenotype",
    "demo_scale_requests",
    "demo_scale_rows",
    "demo_scale_shipments",
    "find",
    "home",
    "models",
    "openapi",
}

# Known violations, each to be removed by the change that fixes it: (importing module, feature).
# (lims.web -> auth went with issue 13: create_app registers auth's token loader for web.)
KNOWN_VIOLATIONS: set[tuple[str, str]] = set()


def allowed(feature: str) -> set[str]:
    """The features `feature` may import: what it builds on, transitively, and itself."""
    reach, todo = {feature}, list(BUILDS_ON[feature])
    while todo:
        if (lower := todo.pop()) not in reach:
            reach.add(lower)
            todo.extend(BUILDS_ON[lower])
    return reach


def module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def is_part_of_lims(name: str) -> bool:
    """A feature (built or planned), a shared module or an application module of lims."""
    known = set(BUILDS_ON) | SHARED | APPLICATION
    return name in known or (LIMS / f"{name}.py").exists() or (LIMS / name).is_dir()


def imported_modules(source: str, module: str, *, is_package: bool = False) -> Iterator[str]:
    """Every module an import statement in `source` names, relative imports resolved.

    `from lims import audit` names lims.audit, `from lims import create_app` names lims.
    """
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: package.count(".") + 1 - (node.level - 1)]
                base = ".".join([*anchor, *([base] if base else [])])
            for alias in node.names:
                is_submodule = base == "lims" and is_part_of_lims(alias.name)
                yield f"{base}.{alias.name}" if is_submodule else base


def lims_targets(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """The parts of lims that `source` imports: features, shared or application modules."""
    targets = set()
    for name in imported_modules(source, module, is_package=is_package):
        parts = name.split(".")
        if parts[0] == "lims":
            targets.add(parts[1] if len(parts) > 1 else "__init__")
    return targets


def violations(
    owner: str, module: str, source: str, *, is_package: bool = False
) -> list[tuple[str, str]]:
    """(module, part of lims) for each import `source`, a module of `owner`, may not make.

    `owner` is a feature, or a shared module (which may import only other shared modules).
    """
    may = (allowed(owner) if owner in BUILDS_ON else {owner}) | SHARED
    targets = lims_targets(source, module, is_package=is_package)
    return [(module, target) for target in sorted(targets - may)]


def feature_modules(feature: str) -> list[Path]:
    return sorted((LIMS / feature).rglob("*.py"))


def built_features() -> list[str]:
    return sorted(p.name for p in LIMS.iterdir() if (p / "__init__.py").exists())


def test_every_package_in_lims_is_a_feature_in_the_documented_order() -> None:
    unknown = set(built_features()) - set(BUILDS_ON)
    assert unknown == set(), f"add {unknown} to BUILDS_ON and docs/dev/architecture.md"


def test_every_module_in_lims_is_a_feature_a_shared_module_or_the_application() -> None:
    top = {p.stem for p in LIMS.glob("*.py")}
    assert top == SHARED | APPLICATION


def test_a_feature_package_itself_holds_no_code_except_audits_record() -> None:
    """Importing a feature runs nothing: no routes, no registration (audit re-exports record)."""
    holding = [f for f in built_features() if has_code(LIMS / f / "__init__.py")]
    assert holding == ["audit"]


@pytest.mark.parametrize("feature", built_features())
def test_a_feature_imports_only_the_features_it_builds_on(feature: str) -> None:
    found, problems = 0, []
    for path in feature_modules(feature):
        module, source = module_name(path), path.read_text()
        is_package = path.name == "__init__.py"
        # Any import counts as proof the test reads the modules: a feature may begin with a pure
        # module that imports nothing of lims (lims/requests/protection.py did).
        found += len(list(imported_modules(source, module, is_package=is_package)))
        problems += [
            v
            for v in violations(feature, module, source, is_package=is_package)
            if v not in KNOWN_VIOLATIONS
        ]
    assert found > 0, f"no imports found in lims/{feature}: is the test reading it?"
    assert problems == []


@pytest.mark.parametrize("shared", sorted(SHARED))
def test_a_shared_module_imports_no_feature(shared: str) -> None:
    module = f"lims.{shared}"
    found = violations(shared, module, (LIMS / f"{shared}.py").read_text())
    assert [v for v in found if v not in KNOWN_VIOLATIONS] == []


def test_each_known_violation_still_exists() -> None:
    """An allowance outlives its cause otherwise; remove the entry once the import is gone."""
    for module, target in KNOWN_VIOLATIONS:
        path = LIMS / f"{module.removeprefix('lims.').replace('.', '/')}.py"
        found = lims_targets(path.read_text(), module)
        assert target in found, f"{module} no longer imports {target}: delete its entry"


def test_an_upward_import_is_found_at_module_level_and_inside_a_function() -> None:
    source = (
        "from lims import audit\n"
        "from lims.db import get_session\n"
        "from lims.labels.services import print_labels\n"
        "def view():\n"
        "    import lims.home\n"
        "    from lims.storage import services\n"
    )
    assert violations("specimens", "lims.specimens.services.fake", source) == [
        ("lims.specimens.services.fake", "home"),
        ("lims.specimens.services.fake", "labels"),
        ("lims.specimens.services.fake", "storage"),
    ]


def test_a_relative_upward_import_is_found_too() -> None:
    source = "from ...storage import services\nfrom .. import models\nfrom . import common\n"
    assert violations("specimens", "lims.specimens.services.fake", source) == [
        ("lims.specimens.services.fake", "storage")
    ]


def test_a_shared_module_may_not_import_even_the_lowest_feature() -> None:
    assert violations("web", "lims.web", "def f():\n    from lims.audit import record\n") == [
        ("lims.web", "audit")
    ]


def test_features_that_share_a_base_may_not_import_each_other() -> None:
    # phenotype and storage both build on specimens; neither builds on the other.
    assert violations("phenotype", "lims.phenotype.services", "import lims.storage.models\n") == [
        ("lims.phenotype.services", "storage")
    ]
    assert violations("requests", "lims.requests.services", "import lims.storage.models\n") == []


def http_modules() -> list[Path]:
    """The modules that turn HTTP into service calls: every views and api module, the front page."""
    paths = [LIMS / "home.py"]
    for feature in built_features():
        for name in ("views", "api"):
            paths += (
                [LIMS / feature / f"{name}.py"] if (LIMS / feature / f"{name}.py").exists() else []
            )
            paths += sorted((LIMS / feature / name).glob("*.py"))
    return paths


def test_views_and_endpoints_leave_every_query_to_the_services() -> None:
    modules = http_modules()
    assert len(modules) > len(built_features()), "views and api modules not found"
    querying = [
        str(path.relative_to(ROOT))
        for path in modules
        if any(n.split(".")[0] == "sqlalchemy" for n in imported_modules(path.read_text(), ""))
    ]
    assert querying == []


# The plain libraries: data in, data or bytes out (docs/dev/architecture.md, "Plain libraries").
FORBIDDEN = {"flask", "sqlalchemy", "lims", "flask_login", "alembic"}
LIBRARIES = ["label_printing", "phenotype_link", "shipping"]
# Empty packages waiting for the issue that builds them. The test below fails as soon as one
# holds code: move it into LIBRARIES then, so its imports are checked.
NOT_YET_BUILT: dict[str, int] = {}


def has_code(path: Path) -> bool:
    """True when the module holds more than a docstring."""
    body = ast.parse(path.read_text()).body
    if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
        body = body[1:]
    return bool(body)


def forbidden_imports(source: str) -> list[str]:
    names = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.append(node.module)
    return [n for n in names if n.split(".")[0] in FORBIDDEN]


def test_every_packaged_library_is_checked_or_waiting_for_its_issue() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packaged = {p.rstrip("*") for p in config["tool"]["setuptools"]["packages"]["find"]["include"]}
    assert packaged - {"lims"} == set(LIBRARIES) | set(NOT_YET_BUILT)


@pytest.mark.parametrize("package", LIBRARIES)
def test_plain_libraries_do_not_import_the_application(package: str) -> None:
    modules = sorted((ROOT / package).rglob("*.py"))
    assert any(has_code(path) for path in modules), f"{package}/ is missing or holds no code"
    offenders = [
        f"{path.relative_to(ROOT)}: {name}"
        for path in modules
        for name in forbidden_imports(path.read_text())
    ]
    assert offenders == []


def test_a_library_not_yet_built_is_still_an_empty_package() -> None:
    # A loop, not parametrize: with every library built the set is empty, and an empty
    # parameter set would show as a skip in every run.
    for package, issue in NOT_YET_BUILT.items():
        assert (ROOT / package / "__init__.py").exists(), f"{package}/ is gone (issue {issue})"
        filled = [str(p.relative_to(ROOT)) for p in (ROOT / package).rglob("*.py") if has_code(p)]
        assert filled == [], f"issue {issue} filled {package}/: move it to LIBRARIES"


def test_a_library_importing_flask_inside_a_function_is_caught() -> None:
    source = "import hashlib\n\ndef render():\n    from flask import current_app\n"
    assert forbidden_imports(source) == ["flask"]
