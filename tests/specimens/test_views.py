from __future__ import annotations

import io
import re

from flask.testing import FlaskClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from werkzeug.test import TestResponse

from lims.actors import Actor
from lims.specimens.models import Aliquot, Dystonia, EnrolmentStatus
from lims.specimens.services import get_subject, sub_aliquot
from tests.conftest import csrf_token, sign_in
from tests.factories import make_aliquots, make_specimen, make_subject, make_visit
from tests.specimens.factories import csv_bytes, import_row, make_dna_stock, make_edta_tube


def _post(client: FlaskClient, path: str, data: dict[str, object], page: str) -> TestResponse:
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def test_the_subject_list_filters_by_diagnosis(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="V-0001")
    make_subject(session, study_code="V-0002", diagnosis=Dystonia.LIMB)
    sign_in(client, "tech")
    html = client.get("/subjects?diagnosis=limb").get_data(as_text=True)
    assert "V-0002" in html and "V-0001" not in html and "1 subject matches" in html


def test_a_technician_registers_a_subject_through_the_form(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    sign_in(client, "tech")
    form = {
        "study_code": "na1-0100",
        "site_code": "NA1",
        "sex": "female",
        "primary_diagnosis": "cervical",
    }
    response = _post(client, "/subjects", form, "/subjects/new")
    assert response.status_code == 302
    assert response.headers["Location"] == "/subjects/NA1-0100"
    assert get_subject(session, tech, "NA1-0100").site.code == "NA1"


def test_a_form_error_keeps_the_input_and_marks_the_field(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    sign_in(client, "tech")
    form = {"study_code": "V-0100", "site_code": "NA1", "sex": "", "primary_diagnosis": "limb"}
    response = _post(client, "/subjects", form, "/subjects/new")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert 'value="V-0100"' in html and 'class="field has-error"' in html


def test_the_subject_page_shows_visits_tubes_sprec_and_the_aliquot_tree(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    stock = make_dna_stock(session)
    (sub,) = sub_aliquot(session, tech, parent_barcode=stock.barcode, count=1, volume_ul=20)
    sign_in(client, "tech")
    html = client.get(f"/subjects/{stock.subject.study_code}").get_data(as_text=True)
    assert "Consent in place" in html
    assert stock.specimen.sprec_code and stock.specimen.sprec_code in html
    assert f'href="/aliquots/{stock.barcode}"' in html and f'href="/aliquots/{sub.barcode}"' in html
    nested = re.search(rf"{stock.barcode}</a>.*?<ul class=\"tree\">.*?{sub.barcode}", html, re.S)
    assert nested, "the sub-aliquot is listed beneath its stock"


def test_accessioning_through_the_form_leads_to_the_tube_page(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    visit = make_visit(session, make_subject(session, study_code="V-0001"))
    sign_in(client, "tech")
    page = "/subjects/V-0001/visits/1/accession"
    assert "UTC" in client.get(page).get_data(as_text=True)
    form = {
        "barcode": "fx-7777",
        "tube_type": "SST",
        "specimen_type": "whole_blood",
        "collected_at": "2026-03-18T09:00",
        "processing_started_at": "2026-03-18T09:45",
        "pre_processing_temperature": "RT",
        "centrifuge_g": "1300",
        "centrifuge_minutes": "10",
        "centrifuge_temperature": "RT",
        "centrifuge_braked": "yes",
        "processed_at": "2026-03-18T10:25",
        "storage_temperature_c": "-80",
        "is_second_spun": "no",
        "received_at": "",
        "volume_ml": "",
    }
    response = _post(client, page, form, page)
    assert response.headers["Location"] == "/specimens/FX-7777"
    html = client.get("/specimens/FX-7777").get_data(as_text=True)
    assert "SER-SST-A-B-N-B-A" in html
    assert visit.specimens[0].barcode == "FX-7777"


def test_processing_shows_the_new_barcodes_with_a_print_labels_link(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = make_specimen(session)
    sign_in(client, "tech")
    page = f"/specimens/{tube.barcode}"
    form = {
        "specimen_type": "serum",
        "count": "",
        "volume_ul": "250",
        "barcodes": "S-0001\nS-0002\n",
    }
    response = _post(client, f"{page}/aliquots", form, page)
    assert response.status_code == 302
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'href="/labels/print?barcodes=S-0001,S-0002"' in html and "Print labels (2)" in html


def test_a_stock_too_small_is_refused_on_the_page_with_its_volumes(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    stock = make_dna_stock(session, volume_ul=100)
    sign_in(client, "tech")
    page = f"/specimens/{stock.specimen.barcode}"
    form = {"parent_barcode": stock.barcode, "count": "3", "volume_ul": "50", "barcodes": ""}
    response = _post(client, f"{page}/sub-aliquots", form, page)
    assert response.status_code == 409
    html = response.get_data(as_text=True)
    assert f"Stock {stock.barcode} holds 100 µL; 3 × 50 µL needs 150 µL" in html
    assert stock.volume_ul == 100


def test_dna_extraction_through_the_form_makes_a_stock(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = make_edta_tube(session)
    sign_in(client, "tech")
    page = f"/specimens/{tube.barcode}"
    form = {"concentration_ng_ul": "40", "volume_ul": "200", "a260_280": "1.8", "barcode": ""}
    response = _post(client, f"{page}/dna-extractions", form, page)
    assert response.status_code == 302
    assert len(tube.aliquots) == 1 and tube.aliquots[0].total_ug == 8.0


def test_withdrawing_consent_shows_the_banner_and_offers_disposal(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    aliquots = make_aliquots(session, 2)
    code = aliquots[0].subject.study_code
    sign_in(client, "tech")
    page = f"/subjects/{code}"
    form = {"withdrawn_at": "2026-11-02T14:00", "reason": "letter"}
    response = _post(client, f"{page}/consent-withdrawal", form, page)
    assert response.status_code == 302
    assert aliquots[0].subject.enrolment_status is EnrolmentStatus.CONSENT_WITHDRAWN
    html = client.get(page).get_data(as_text=True)
    assert "withdrawn-banner" in html and "Consent withdrawn on 2026-11-02" in html
    form_html = html[html.index('action="/storage/dispose"') :]
    assert 'name="reason" value="consent_withdrawn"' in form_html
    for a in aliquots:
        assert f'name="barcodes" value="{a.barcode}" checked' in form_html
    assert 'name="csrf_token"' in form_html
    again = _post(client, f"{page}/consent-withdrawal", form, page)
    assert again.status_code == 409


def test_a_reviewer_sees_the_subject_but_no_forms(
    client: FlaskClient, session: Session, reviewer: Actor
) -> None:
    tube = make_specimen(session)
    sign_in(client, "reviewer")
    html = client.get(f"/subjects/{tube.visit.subject.study_code}").get_data(as_text=True)
    assert (
        tube.barcode in html and "Register a visit" not in html and "Accession a tube" not in html
    )
    assert (
        client.get(f"/subjects/{tube.visit.subject.study_code}/visits/1/accession").status_code
        == 403
    )


def test_an_import_with_a_bad_row_shows_the_problem_table(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="SUBJ-0001")
    sign_in(client, "tech")
    rows = [import_row(), import_row(aliquot_barcode="AQ-0002", volume_ul="lots")]
    before = session.scalar(select(func.count(Aliquot.id)))
    response = client.post(
        "/specimens/import",
        data={
            "file": (io.BytesIO(csv_bytes(rows)), "log.csv"),
            "csrf_token": csrf_token(client, "/specimens/import"),
        },
        content_type="multipart/form-data",
    )
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    # The column's label, with the sheet's column name beside it (issue 15).
    assert re.search(r'<td class="num">3</td><td>Volume \(µL\) <code class="muted">volume_ul', html)
    assert session.scalar(select(func.count(Aliquot.id))) == before


def test_a_valid_upload_is_imported_and_announced(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_subject(session, study_code="SUBJ-0001")
    sign_in(client, "tech")
    response = client.post(
        "/specimens/import",
        data={
            "file": (io.BytesIO(csv_bytes([import_row()])), "log.csv"),
            "csrf_token": csrf_token(client, "/specimens/import"),
        },
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    assert "Imported 1 aliquots (1 new tubes, 1 new visits)" in response.get_data(as_text=True)


def test_the_template_csv_downloads(client: FlaskClient, tech: Actor) -> None:
    sign_in(client, "tech")
    response = client.get("/specimens/import/template.csv")
    assert response.mimetype == "text/csv"
    assert response.get_data(as_text=True).startswith("study_code,visit_number,visit_on,")


def test_a_post_without_csrf_token_is_refused(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    sign_in(client, "tech")
    response = client.post("/subjects", data={"study_code": "V-1"})
    assert response.status_code == 400
