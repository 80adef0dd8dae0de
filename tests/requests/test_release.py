"""Release (issue 19): the de-identified data set of a shipped request, its downloads, and the
delivery that makes the request's aliquots the investigator's."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.audit.services import events_for
from lims.errors import Conflict, Forbidden, NotFound
from lims.phenotype.models import FindingKind
from lims.phenotype.services import FindingIn, VisitPhenotype, record_visit_phenotype
from lims.requests.models import ItemStatus, Notification
from lims.requests.services.release import (
    confirm_request_delivery,
    data_set,
    download_data_set,
)
from lims.shipments.models import ShipmentStatus
from lims.shipments.services import confirm_delivery
from lims.specimens.models import AliquotStatus, OutCondition
from lims.storage.services import return_aliquot
from tests.requests.release_factories import (
    FIELDS,
    GUID,
    NOTES,
    Shipped,
    cohort,
    shipped_request,
)
from tests.requests.workflow_factories import approved_request, second_investigator

DELIVERED_AT = datetime(2026, 3, 25, 10, 0, tzinfo=UTC)
DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}/\d{1,2}/\d{2,4}|\d{1,2} [A-Z][a-z]{2} \d{4}")
# What a cell of each dictionary type may look like; a cell that fits none is refused.
CELL = {
    "pseudonym": re.compile(r"^[0-9a-f]{16}$"),
    "label": re.compile(r"^[A-Z0-9][A-Z0-9-]{3,31}$"),  # the barcode on the tube
    "code": re.compile(r"^[a-z_0-9A-Z]{1,20}$"),
    "codes separated by ;": re.compile(r"^[a-z_]+(;[a-z_]+)*$"),
    "integer (days)": re.compile(r"^\d{1,5}$"),
    "integer": re.compile(r"^\d{1,4}$"),
    "age in whole years": re.compile(r"^(\d{1,2}|90\+)$"),
    "whole years": re.compile(r"^(\d{1,2}|90\+)$"),
    "number": re.compile(r"^\d{1,4}(\.\d+)?$"),
}


@pytest.fixture
def shipped(
    session: Session,
    investigator: Actor,
    reviewer: Actor,
    admin: Actor,
    tech: Actor,
    tmp_path: Path,
) -> Shipped:
    return shipped_request(
        session,
        investigator=investigator,
        reviewer=reviewer,
        admin=admin,
        tech=tech,
        files_dir=tmp_path,
    )


def _rows(content: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(content.decode())))


def test_the_data_set_has_one_row_per_shipped_aliquot_with_the_asked_fields(
    session: Session, investigator: Actor, shipped: Shipped
) -> None:
    found = data_set(session, investigator, request_id=shipped.request.code)
    rows = _rows(found.content("data"))

    assert list(rows[0]) == [
        "subject", "barcode", "specimen_type", "visit_day", "age_at_collection", "sex",
        "diagnosis", "body_regions", "country", *FIELDS,
    ]  # fmt: skip
    assert [r["barcode"] for r in rows] == [t.barcode for t in shipped.tubes]
    assert [r["visit_day"] for r in rows] == ["0", "65", "0"]
    assert [r["country"] for r in rows] == ["US", "US", "DE"]
    assert [r["age_at_collection"] for r in rows] == ["90+", "90+", "47"]  # born 1931, 1979
    assert rows[0]["subject"] == rows[1]["subject"] != rows[2]["subject"]
    assert {r["diagnosis"] for r in rows} == {"cervical"} and rows[0]["body_regions"] == "neck"
    assert [r["twstrs2_total"] for r in rows] == ["31", "32", "31"]
    assert rows[0]["fh_dystonia"] == "1" and rows[0]["dx_subtype"] == "11"
    assert rows[0]["dx_onset_age"] == "47" and rows[0]["twstrs_severity"] == ""
    assert [r["weeks_since_toxin"] for r in rows] == ["2", "6", ""]
    assert [r["gen_result_thap1"] for r in rows] == ["6", "", ""]  # 6 = No variant found
    assert [r["gen_result_other"] for r in rows] == ["3", "", ""]  # a test without a gene
    assert found.withheld == {}


def test_the_dictionary_describes_toxin_weeks_and_genetic_results_as_coded_values(
    session: Session, investigator: Actor, shipped: Shipped
) -> None:
    found = data_set(session, investigator, request_id=shipped.request.code)
    entries = {e.column: e for e in found.release.dictionary}

    assert entries["weeks_since_toxin"].type == "integer"
    assert entries["weeks_since_toxin"].values.startswith("weeks;")
    assert entries["gen_result_thap1"].type == "code"
    assert "6 = No variant found" in entries["gen_result_thap1"].values
    assert "gen_variant" not in entries


def test_no_cell_holds_a_study_code_guid_date_site_or_free_text(
    session: Session, investigator: Actor, shipped: Shipped
) -> None:
    found = data_set(session, investigator, request_id=shipped.request.code)
    types = {e.column: e.type for e in found.release.dictionary}
    subjects = shipped.subjects
    forbidden = [s.study_code for s in subjects] + [GUID, "NA1", "EU1", "Site ", "Klinikum"]
    forbidden += [NOTES, "Smith", "Rochester", "Rater", "2026", investigator.username]
    forbidden += ["onabotulinum", "THAP1", "variant", "Uncertain", "test #"]  # toxin, genetics

    for row in found.release.rows:
        for column, cell in zip(found.release.columns, row, strict=True):
            assert not [f for f in forbidden if f.lower() in cell.lower()], (column, cell)
            assert not DATE.search(cell), (column, cell)
            assert cell == "" or CELL[types[column]].match(cell), (column, types[column], cell)


def test_two_requests_cannot_be_joined_on_subject(
    session: Session,
    investigator: Actor,
    reviewer: Actor,
    admin: Actor,
    tech: Actor,
    tmp_path: Path,
) -> None:
    tubes, _ = cohort(session, tech)  # the first two tubes are one subject's two visits
    people = {"investigator": investigator, "reviewer": reviewer, "admin": admin, "tech": tech}
    first = shipped_request(session, **people, files_dir=tmp_path, tubes=tubes[:1])
    second = shipped_request(session, **people, files_dir=tmp_path, tubes=tubes[1:2])

    one = data_set(session, investigator, request_id=first.request.id).release.rows[0]
    other = data_set(session, investigator, request_id=second.request.id).release.rows[0]

    assert one[0] != other[0] and len(one[0]) == len(other[0]) == 16


def test_an_investigator_reaches_only_their_own_data_set_and_staff_reach_all(
    session: Session, investigator: Actor, reviewer: Actor, tech: Actor, shipped: Shipped
) -> None:
    stranger = second_investigator(session)

    with pytest.raises(NotFound):
        download_data_set(session, stranger, request_id=shipped.request.id, kind="data")
    assert data_set(session, tech, request_id=shipped.request.id).row_count == 3
    assert data_set(session, reviewer, request_id=shipped.request.id).row_count == 3
    assert [str(e.action) for e in events_for(session, shipped.request)][-1] != (
        "request.data_set_downloaded"
    )


def test_each_download_is_audited_with_who_which_request_and_the_files_hash(
    session: Session, investigator: Actor, shipped: Shipped
) -> None:
    file = download_data_set(
        session, investigator, request_id=shipped.request.id, kind="dictionary_json"
    )

    event = events_for(session, shipped.request)[-1]
    assert str(event.action) == "request.data_set_downloaded"
    assert event.actor_username == investigator.username
    assert event.after == {
        "file": f"{shipped.request.code}-data-dictionary.json",
        "sha256": hashlib.sha256(file.content).hexdigest(),
        "rows": 3,
    }
    dictionary = json.loads(file.content)
    assert [c["column"] for c in dictionary["columns"]][:2] == ["subject", "barcode"]
    assert dictionary["withheld"] == {}


def test_no_data_set_exists_before_the_request_has_shipped(
    session: Session, investigator: Actor, reviewer: Actor, admin: Actor, tmp_path: Path
) -> None:
    req = approved_request(session, investigator, reviewer, admin, tmp_path)

    with pytest.raises(Conflict, match="once it has shipped"):
        download_data_set(session, investigator, request_id=req.id, kind="data")
    assert [str(e.action) for e in events_for(session, req)][-1] == "request.approved"


def test_confirming_delivery_releases_the_requests_aliquots_in_one_transaction(
    session: Session, tech: Actor, investigator: Actor, shipped: Shipped
) -> None:
    confirm_request_delivery(
        session, tech, request_id=shipped.request.code, delivered_at=DELIVERED_AT
    )

    assert {i.status for i in shipped.request.items} == {ItemStatus.RELEASED}
    assert {i.open_aliquot_id for i in shipped.request.items} == {None}
    assert {t.status for t in shipped.tubes} == {AliquotStatus.RELEASED}
    assert shipped.shipment.status is ShipmentStatus.RECEIVED
    assert shipped.shipment.received_at == DELIVERED_AT
    assert str(events_for(session, shipped.request)[-1].action) == "request.released"
    told = session.scalars(
        select(Notification.message).where(Notification.user_id == investigator.user_id)
    )
    assert any("the data set is ready" in m for m in told)
    assert str(events_for(session, shipped.request.items[0])[-1].action) == (
        "request_item.released"
    )


def test_an_investigator_may_not_confirm_a_delivery_and_nothing_changes(
    session: Session, investigator: Actor, shipped: Shipped
) -> None:
    with pytest.raises(Forbidden):
        confirm_request_delivery(
            session, investigator, request_id=shipped.request.id, delivered_at=DELIVERED_AT
        )

    assert {i.status for i in shipped.request.items} == {ItemStatus.SHIPPED}
    assert shipped.shipment.status is ShipmentStatus.SHIPPED


def test_a_delivery_confirmed_on_the_shipment_page_is_settled_from_the_request(
    session: Session, tech: Actor, shipped: Shipped
) -> None:
    confirm_delivery(session, tech, shipment_id=shipped.shipment.id, delivered_at=DELIVERED_AT)
    trail = len(events_for(session, shipped.shipment))

    confirm_request_delivery(
        session, tech, request_id=shipped.request.id, delivered_at=datetime.now(UTC)
    )

    assert {i.status for i in shipped.request.items} == {ItemStatus.RELEASED}
    assert shipped.shipment.received_at == DELIVERED_AT
    assert len(events_for(session, shipped.shipment)) == trail
    with pytest.raises(Conflict, match="no shipped aliquots left"):
        confirm_request_delivery(
            session, tech, request_id=shipped.request.id, delivered_at=DELIVERED_AT
        )


def test_a_released_aliquot_comes_back_through_receiving_and_stays_in_the_data_set(
    session: Session, tech: Actor, investigator: Actor, shipped: Shipped
) -> None:
    confirm_request_delivery(
        session, tech, request_id=shipped.request.id, delivered_at=DELIVERED_AT
    )
    tube = shipped.tubes[0]

    return_aliquot(session, tech, barcode=tube.barcode, condition=OutCondition.ON_DRY_ICE)

    assert tube.status is AliquotStatus.RECEIVED
    assert shipped.request.items[0].status is ItemStatus.RELEASED
    assert data_set(session, investigator, request_id=shipped.request.id).row_count == 3


def test_a_stored_value_no_code_list_knows_stops_the_data_set_without_showing_it(
    session: Session, investigator: Actor, tech: Actor, shipped: Shipped
) -> None:
    subject = shipped.subjects[0]  # a study code typed into the family-history field
    finding = FindingIn(FindingKind.FAMILY_HISTORY, "fh_dystonia", subject.study_code)
    typo = VisitPhenotype(findings=(finding,))
    record_visit_phenotype(
        session, tech, study_code=subject.study_code, visit_number=1, phenotype=typo
    )

    with pytest.raises(Conflict, match="failed the last de-identification check") as refused:
        download_data_set(session, investigator, request_id=shipped.request.id, kind="data")
    assert subject.study_code not in str(refused.value)
