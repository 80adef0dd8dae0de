"""The pages satisfy their own Content-Security-Policy: Chromium reports no violation on any."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ui.conftest import Bench, signed_in_page

# Records every violation the page reports, from before its first script runs.
_LISTEN = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__violations.push(e.violatedDirective + " " + (e.blockedURI || "inline"));
});
"""

TECH_PAGES = [
    "/",
    "/storage/scan",
    "/storage/",
    "/storage/capacity",
    "/aliquots",
    "/subjects",
    "/subjects/new",
    "/specimens/import",
    "/storage/placements/import",
    "/storage/move",
    "/storage/dispose",
    "/storage/tubes",
]
ADMIN_PAGES = ["/", "/admin/users", "/audit/"]


def _pages_with_data(page: Any, bench: Bench) -> list[str]:
    """The record pages reached from the seeded box and tubes: box, aliquot, subject, specimen,
    freezer, and the label form with its preview."""
    tube = bench.tubes[0]
    links = [f"/storage/boxes/by-barcode/{bench.box}", f"/aliquots/{tube}"]
    for start, prefix in (
        (links[-1], "/subjects/"),
        (None, "/specimens/"),
        ("/storage/", "/storage/freezers/"),
    ):
        if start is not None:
            page.goto(f"{bench.url}{start}")
        href = page.locator(f"main a[href^='{prefix}']").first.get_attribute("href")
        assert href, f"no {prefix} link on {page.url}"
        links.append(href)
        page.goto(f"{bench.url}{href}")
    return [*links, f"/labels/print?barcodes={tube}"]


def _violations(page: Any, bench: Bench, paths: list[str]) -> list[str]:
    found: list[str] = []
    page.on(
        "console",
        lambda msg: (
            found.append(f"{page.url}: {msg.text}")
            if "Content Security Policy" in msg.text
            else None
        ),
    )
    for path in paths:
        response = page.goto(f"{bench.url}{path}")
        assert response is not None and response.status == 200, path
        assert "script-src 'self'" in response.headers["content-security-policy"]
        page.wait_for_load_state("load")
        found += [f"{path}: {v}" for v in page.evaluate("window.__violations")]
    return found


@pytest.mark.parametrize("username", ["tech", "admin"])
def test_no_page_breaks_the_content_security_policy(
    live_server: Bench, browser: Any, username: str
) -> None:
    page = signed_in_page(browser, live_server, username=username)
    page.add_init_script(_LISTEN)
    paths = TECH_PAGES + _pages_with_data(page, live_server) if username == "tech" else ADMIN_PAGES
    assert _violations(page, live_server, paths) == []
    page.close()


def test_the_bars_and_grids_are_sized_without_inline_styles(
    live_server: Bench, browser: Any
) -> None:
    page = signed_in_page(browser, live_server)
    page.goto(f"{live_server.url}/storage/boxes/by-barcode/{live_server.box}")
    columns = page.eval_on_selector(
        ".boxgrid", "g => getComputedStyle(g).gridTemplateColumns.split(' ').length"
    )
    assert columns == 1 + 9  # the row letters, then the 9 columns of the seeded box
    page.goto(f"{live_server.url}/")
    assert page.locator("[data-pct]").count() > 0
    page.close()
