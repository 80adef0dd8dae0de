"""A page shows a link only to whom may follow it: no role meets a link that answers 403.

One rule decides (lims.web.may_open: the roles a page's navigation entry or PAGE_ROLES names,
admins always), so the navigation and the links in pages cannot disagree with the pages."""

from __future__ import annotations

import re
from urllib.parse import urljoin

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from tests.conftest import sign_in
from tests.factories import make_aliquots, make_specimen
from tests.storage.factories import stored

_HREF = re.compile(r'<a [^>]*href="(/[^"#]*)')


@pytest.mark.parametrize("username", ["reviewer", "tech", "admin", "investigator"])
def test_no_link_a_role_is_shown_answers_forbidden(
    client: FlaskClient, session: Session, tech: Actor, reviewer: Actor, admin: Actor,
    investigator: Actor, username: str,
) -> None:  # fmt: skip
    aliquot = stored(session, tech)
    make_aliquots(session, 1, specimen=make_specimen(session))
    sign_in(client, username)
    start = [
        "/", "/aliquots", "/storage/", "/audit/", "/subjects", f"/aliquots/{aliquot.barcode}",
        f"/specimens/{aliquot.specimen.barcode}", f"/subjects/{aliquot.subject.study_code}",
    ]  # fmt: skip
    links = set()
    for path in start:
        response = client.get(path)
        if response.status_code == 200:
            links |= {
                urljoin(path, href) for href in _HREF.findall(response.get_data(as_text=True))
            }

    forbidden = sorted(link for link in links - {"/logout"} if client.get(link).status_code == 403)

    assert forbidden == []


def test_the_admin_navigation_holds_labels(client: FlaskClient, admin: Actor) -> None:
    sign_in(client, "admin")

    assert 'href="/labels/print">Labels</a>' in client.get("/").get_data(as_text=True)
