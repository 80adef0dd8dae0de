"""The one safe-redirect check every page uses after a form (no open redirect)."""

from __future__ import annotations

import pytest

from lims.web import safe_next

HOME = "/"


@pytest.mark.parametrize(
    "url",
    [
        "//evil.example",
        "//evil.example/storage",
        "/\\evil.example",
        "/\\/evil.example",
        "\\\\evil.example",
        "\\evil.example",
        "https://evil.example/",
        "http:evil.example",
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "/%5Cevil.example",
        "/%5cevil.example",
        "/%2F%2Fevil.example",
        "%2F%2Fevil.example",
        "/\tevil",
        "/\n//evil.example",
        "/storage\r\nSet-Cookie: x=1",
        " /storage",
        "storage/boxes/1",
        "",
        None,
    ],
)
def test_a_target_off_this_site_or_malformed_gives_the_default(url: str | None) -> None:
    assert safe_next(url, HOME) == HOME


@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/storage/boxes/7",
        "/storage/aliquots?status=stored&page=2",
        "/specimens/00000017?made=00000018,00000026",
        "/storage/move#box",
        "/storage/search?q=NA1%20V2",
    ],
)
def test_a_path_on_this_site_is_followed_as_given(url: str) -> None:
    assert safe_next(url, HOME) == url
