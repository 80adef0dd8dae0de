"""Storage lists every route in one place: the ROUTES tables of its views and api packages."""

from __future__ import annotations

import inspect
from types import ModuleType

import pytest
from flask import Flask

from lims.storage import api, views
from lims.storage.api import aliquots as api_aliquots
from lims.storage.api import setup as api_setup
from lims.storage.views import aliquots, bench, setup

PAGE_MODULES = [(views, aliquots), (views, bench), (views, setup)]
ENDPOINT_MODULES = [(api, api_aliquots), (api, api_setup)]


def _views_in(module: ModuleType) -> set[str]:
    """The module's public functions that answer a request (annotated ResponseReturnValue)."""
    return {
        name
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if fn.__module__ == module.__name__
        and not name.startswith("_")
        and "ResponseReturnValue" in str(inspect.signature(fn).return_annotation)
    }


@pytest.mark.parametrize(
    ("package", "module"),
    PAGE_MODULES + ENDPOINT_MODULES,
    ids=lambda m: m.__name__.removeprefix("lims.storage."),
)
def test_every_view_function_of_a_storage_module_is_listed_in_its_routes(
    package: ModuleType, module: ModuleType
) -> None:
    listed = {view.__name__ for _, _, view in package.ROUTES if view.__module__ == module.__name__}
    found = _views_in(module)
    assert found, f"no view functions found in {module.__name__}"
    assert found == listed


def test_each_storage_route_is_registered_under_the_views_own_name(app: Flask) -> None:
    for prefix, package in (("storage", views), ("storage_api", api)):
        for method, rule, view in package.ROUTES:
            endpoint = f"{prefix}.{view.__name__}"
            assert app.view_functions[endpoint] is view
            rules = [r for r in app.url_map.iter_rules(endpoint) if method in (r.methods or ())]
            assert any(r.rule.endswith(rule) for r in rules), f"{method} {rule} -> {endpoint}"
