"""Every element id on a page is unique: a label's for= and a scanner's focus find one field."""

from __future__ import annotations

import re
from collections import Counter

import pytest
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.specimens.models import SpecimenType
from tests.conftest import sign_in
from tests.factories import make_aliquots, make_specimen
from tests.storage.factories import stored

_ID = re.compile(r'\sid="([^"]+)"')


def _repeated_ids(page: str) -> list[str]:
    return sorted(i for i, n in Counter(_ID.findall(page)).items() if n > 1)


@pytest.mark.parametrize("username", ["tech", "reviewer", "admin"])
def test_no_page_repeats_an_element_id(
    client: FlaskClient, session: Session, tech: Actor, reviewer: Actor, admin: Actor,
    username: str,
) -> None:  # fmt: skip
    tube = make_specimen(session)
    dna = make_aliquots(session, 1, specimen=tube, specimen_type=SpecimenType.DNA)[0]
    aliquot = stored(session, tech)
    subject = aliquot.subject
    sign_in(client, username)
    paths = [
        "/", f"/specimens/{tube.barcode}", f"/subjects/{subject.study_code}",
        f"/aliquots/{aliquot.barcode}", f"/aliquots/{dna.barcode}", "/storage/", "/aliquots",
        "/audit/", f"/find?q={tube.barcode}", "/labels/print", "/storage/scan",
        f"/subjects/{subject.study_code}/visits/1/accession",
    ]  # fmt: skip

    repeated = {}
    for path in paths:
        response = client.get(path)
        if response.status_code == 200:
            repeated[path] = _repeated_ids(response.get_data(as_text=True))

    assert {path: ids for path, ids in repeated.items() if ids} == {}
