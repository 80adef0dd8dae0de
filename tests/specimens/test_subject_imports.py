"""Enrolling subjects from a CSV with the consent each signed, all or nothing."""

from __future__ import annotations

import io
from datetime import date

import pytest
from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.errors import InvalidInput
from lims.specimens.duo import DuoTerm
from lims.specimens.models import Subject
from lims.specimens.services import consent_permits, get_subject, import_subjects
from tests.conftest import bearer, csrf_token, sign_in
from tests.factories import make_site
from tests.specimens.factories import make_consent_form

V1_CODES = (
    "future_research,health_research,dystonia_research,genetic,commercial,sharing,recontact,"
    "destroy_on_withdrawal"
)
HEADER = f"study_code,site_code,sex,primary_diagnosis,consent_version,consented_on,{V1_CODES}\n"
ALL_YES = ",".join(["yes"] * 8)
NO_GENETIC = "yes,yes,yes,no,yes,yes,yes,yes"


def _csv(*lines: str) -> io.BytesIO:
    return io.BytesIO((HEADER + "\n".join(lines) + "\n").encode())


def test_subjects_are_enrolled_with_the_consent_they_signed(session: Session, tech: Actor) -> None:
    make_site(session, "NA1")
    make_consent_form(session)
    data = _csv(
        f"imp-0001,NA1,female,cervical,1.0,2023-02-01,{NO_GENETIC}",
        "IMP-0002,NA1,male,limb,,," + "," * 7,
    )
    result = import_subjects(session, tech, data=data)
    assert (result.subjects, result.consents) == (2, 1)
    first = get_subject(session, tech, "IMP-0001")
    genetic = consent_permits(
        session, first, on=date(2023, 3, 1), purpose=DuoTerm.HMB, modifiers={DuoTerm.GSO}
    )
    assert genetic.reasons == ["the participant declined GSO (genetic studies only)"]
    second = get_subject(session, tech, "IMP-0002")
    assert not consent_permits(session, second, on=date(2023, 3, 1), purpose=DuoTerm.HMB).permitted


def test_one_bad_row_imports_nothing_and_names_each_row_and_field(
    session: Session, tech: Actor
) -> None:
    make_site(session, "NA1")
    make_consent_form(session)
    data = _csv(
        f"IMP-0003,NA1,female,cervical,1.0,2023-02-01,{ALL_YES}",
        "IMP-0004,XX9,female,cervical,9.9,2023-02-01," + ALL_YES,
        "IMP-0003,NA1,female,cervical,1.0,2023-02-01,yes,yes,yes,maybe,yes,yes,yes,yes",
    )
    with pytest.raises(InvalidInput) as caught:
        import_subjects(session, tech, data=data)
    where = {(e["row"], e["field"]) for e in caught.value.errors}
    assert where == {(3, "site_code"), (3, "consent_version"), (4, "study_code"), (4, "genetic")}
    assert session.scalar(select(func.count(Subject.id))) == 0


def test_the_api_and_the_page_import_subjects(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_site(session, "NA1")
    make_consent_form(session)
    body = (HEADER + f"IMP-0005,NA1,female,cervical,1.0,2023-02-01,{ALL_YES}\n").encode()
    headers = {**bearer(client, "tech"), "Content-Type": "text/csv"}
    response = client.post("/api/v1/subjects/import", data=body, headers=headers)
    assert response.status_code == 201, response.get_data(as_text=True)
    assert response.get_json() == {"subjects": 1, "consents": 1}

    sign_in(client, "tech")
    page = body.replace(b"IMP-0005", b"IMP-0006")
    form = {
        "file": (io.BytesIO(page), "subjects.csv"),
        "csrf_token": csrf_token(client, "/subjects/import"),
    }
    answer = client.post("/subjects/import", data=form, content_type="multipart/form-data")
    assert answer.status_code == 302
    again = {
        "file": (io.BytesIO(page), "subjects.csv"),
        "csrf_token": csrf_token(client, "/subjects/import"),
    }
    refused = client.post("/subjects/import", data=again, content_type="multipart/form-data")
    assert refused.status_code == 422 and "IMP-0006 is already registered" in refused.get_data(
        as_text=True
    )
