"""deploy/ and docs/operations.md against the code, cheaply: compose.yaml (never run here: no
container engine) parses and names the settings and files the deployment test uses, and the
operations guide names every environment variable the application reads."""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.infra.topology import DEPLOY, ROOT, SHARED_SETTINGS

_READS = re.compile(r"""os\.environ(?:\.get\(|\[)\s*["']([A-Z][A-Z0-9_]+)["']""")


def _variables_read() -> set[str]:
    """Every variable config.py, lims/ and deploy/gunicorn.conf.py read from the environment."""
    files = [ROOT / "config.py", DEPLOY / "gunicorn.conf.py", *(ROOT / "lims").rglob("*.py")]
    return {name for path in files for name in _READS.findall(path.read_text())}


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    return loaded


def test_the_operations_guide_names_every_environment_variable_the_application_reads() -> None:
    guide = (ROOT / "docs/operations.md").read_text()
    read = _variables_read()

    assert {"DATABASE_URL", "SECRET_KEY", "LIMS_BIND"} <= read  # the scan finds them at all
    assert sorted(name for name in read if f"`{name}`" not in guide) == []


def test_compose_runs_the_tested_topology_with_the_settings_the_deployment_test_gives() -> None:
    services = _compose()["services"]
    apps = [services["app1"], services["app2"]]
    read = _variables_read()

    assert set(services) == {"primary", "replica", "migrate", "app1", "app2", "nginx"}
    for app in apps:
        assert set(SHARED_SETTINGS) | {"LIMS_BIND"} <= set(app["environment"]) <= read
        assert app["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert set(services["migrate"]["environment"]) <= read
    assert services["migrate"]["environment"]["DATABASE_URL"].startswith("postgresql://lims_owner")
    assert all(
        app["environment"]["DATABASE_URL"].startswith("postgresql://lims_app") for app in apps
    )
    # The app servers listen where deploy/nginx.conf's upstream sends requests.
    upstream = set(re.findall(r"server (127\.0\.0\.1:\d+) ", (DEPLOY / "nginx.conf").read_text()))
    assert {app["environment"]["LIMS_BIND"] for app in apps} == upstream


def test_every_file_compose_builds_or_mounts_is_in_the_repository() -> None:
    services = _compose()["services"]
    mounted = [
        volume.split(":")[0]
        for service in services.values()
        for volume in service.get("volumes", [])
        if volume.startswith(".")
    ]
    build = services["app1"]["build"]
    local = [m for m in mounted if not m.startswith(("./secrets", "./certs"))]  # the site's own

    assert "./nginx.conf" in local and (DEPLOY / build["context"] / build["dockerfile"]).exists()
    assert [m for m in local if not (DEPLOY / m).exists()] == []
    entrypoint = (DEPLOY / "docker-entrypoint.sh").read_text()
    assert "deploy/gunicorn.conf.py" in entrypoint and "db upgrade" in entrypoint
