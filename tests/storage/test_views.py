"""The storage pages through Flask's test client, with CSRF tokens as a browser sends them."""

from __future__ import annotations

import csv
import io
import re
from urllib.parse import parse_qs, urlparse

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.specimens.models import AliquotStatus
from lims.storage.services import check_out, location_of
from tests.conftest import csrf_token, sign_in
from tests.factories import (
    make_aliquot,
    make_aliquots,
    make_box,
    make_freezer,
    make_rack,
    make_specimen,
    make_subject,
    make_visit,
)
from tests.storage.factories import actions, stored


def _post(client: FlaskClient, path: str, data: dict[str, object], page: str = "/storage/scan"):  # type: ignore[no-untyped-def]
    return client.post(path, data={**data, "csrf_token": csrf_token(client, page)})


def _flashes(client: FlaskClient, location: str) -> str:
    return client.get(location).get_data(as_text=True)


def test_scanning_a_box_then_tubes_fills_a1_a2_and_ignores_a_repeat(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box = make_box(session)
    tubes = [make_aliquot(session) for _ in range(2)]
    sign_in(client, "tech")
    selected = _post(client, "/storage/scan", {"code": box.barcode.lower()})
    assert selected.status_code == 303
    assert parse_qs(urlparse(selected.headers["Location"]).query)["box"] == [str(box.id)]
    for tube in tubes:
        response = _post(client, "/storage/scan", {"code": tube.barcode, "box_id": box.id})
        assert response.status_code == 303
    page = client.get(f"/storage/scan?box={box.id}&last=A2").get_data(as_text=True)
    assert f'data-pos="A1" data-barcode="{tubes[0].barcode}"' in page
    assert f'data-pos="A2" data-barcode="{tubes[1].barcode}"' in page
    again = _post(client, "/storage/scan", {"code": tubes[0].barcode, "box_id": box.id})
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert 'class="flash warning"' in page and "is already in" in page
    assert len(box.placements) == 2


def test_a_typed_position_takes_the_next_tube(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box, tube = make_box(session), make_aliquot(session)
    sign_in(client, "tech")
    target = _post(client, "/storage/scan", {"code": "c4", "box_id": box.id})
    assert "position=C4" in target.headers["Location"]
    _post(client, "/storage/scan", {"code": tube.barcode, "box_id": box.id, "position": "C4"})
    assert location_of(tube)["position"] == "C4"  # type: ignore[index]


def test_an_unknown_tube_flashes_an_error_and_changes_nothing(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box = make_box(session)
    sign_in(client, "tech")
    response = _post(client, "/storage/scan", {"code": "NOT-A-TUBE", "box_id": box.id})
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert 'class="flash error"' in page and "No aliquot has barcode NOT-A-TUBE" in page
    assert box.placements == []


def test_a_tube_scanned_before_a_box_asks_for_the_box(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = make_aliquot(session)
    sign_in(client, "tech")
    response = _post(client, "/storage/scan", {"code": tube.barcode})
    assert "scan the box first" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_an_investigator_cannot_open_the_scan_page(
    client: FlaskClient, investigator: Actor
) -> None:
    sign_in(client, "investigator")
    assert client.get("/storage/scan").status_code == 403


def test_the_box_page_draws_every_position_with_type_status_and_links(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box = make_box(session, rows=10, cols=10)
    serum = stored(session, tech, box=box, position="A1")
    dna = stored(session, tech, box=box, position="J10", specimen_type="dna")
    check_out(session, tech, barcode=serum.barcode)
    sign_in(client, "tech")
    page = client.get(f"/storage/boxes/{box.id}").get_data(as_text=True)
    assert len(re.findall(r'data-pos="[A-J]\d+"', page)) == 100
    assert len(re.findall(r'class="cell empty" data-pos=', page)) == 98
    assert f'href="/aliquots/{serum.barcode}"' in page
    assert "t-serum s-checked_out" in page and "t-dna s-stored" in page
    assert f"J10 · {dna.barcode} · dna · stored" in page
    by_code = client.get(f"/storage/boxes/by-barcode/{box.barcode}")
    assert by_code.headers["Location"].endswith(f"/storage/boxes/{box.id}")


def test_the_box_page_offers_the_racks_of_its_own_freezer_and_links_to_the_others(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    here, there = make_freezer(session), make_freezer(session)
    near, far = make_rack(session, here), make_rack(session, there)
    box = make_box(session, rack=near)
    sign_in(client, "tech")

    page = client.get(f"/storage/boxes/{box.id}").get_data(as_text=True)

    offered = set(re.findall(r'<option value="(\d+)"', page))
    assert str(near.id) in offered and str(far.id) not in offered
    assert 'href="/storage/move"' in page  # another freezer's racks: the move page
    moved = client.post(
        f"/storage/boxes/{box.id}/move", data={"rack_id": far.id, "csrf_token": csrf_token(client)}
    )
    assert moved.status_code == 303 and box.rack_id == far.id


def test_the_aliquot_list_filters_and_pages(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box = make_box(session)
    in_box = [stored(session, tech, box=box) for _ in range(3)]
    loose = make_aliquot(session)
    sign_in(client, "tech")
    page = client.get(f"/aliquots?box={box.barcode}&per_page=2").get_data(as_text=True)
    assert "3 aliquots match" in page and "Next →" in page and "Previous" not in page
    assert in_box[0].barcode in page and in_box[2].barcode not in page
    after = re.search(r"after=(\d+)", page)
    assert after is not None
    page = client.get(f"/aliquots?box={box.barcode}&per_page=2&after={after[1]}").get_data(
        as_text=True
    )
    assert in_box[2].barcode in page and in_box[0].barcode not in page
    assert "← Previous" in page and "Next →" not in page
    page = client.get("/aliquots?status=received").get_data(as_text=True)
    assert loose.barcode in page and in_box[0].barcode not in page


def test_the_export_streams_the_filtered_inventory(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box = make_box(session)
    aliquot = stored(session, tech, box=box, position="B2")
    make_aliquot(session)
    sign_in(client, "tech")
    response = client.get(f"/aliquots/export.csv?box={box.barcode}")
    assert response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.get_data(as_text=True))))
    assert rows[0][:14] == [
        "barcode", "subject", "site", "visit", "type", "volume_ul", "concentration_ng_ul",
        "status", "freeze_thaw", "freezer", "rack", "box", "position", "collected_at",
    ]  # fmt: skip
    assert rows[0][14:16] == ["sprec_code", "sprec_version"]  # then DNA and serum quality
    assert len(rows) == 2
    assert rows[1][0] == aliquot.barcode and rows[1][11:13] == [box.barcode, "B2"]
    assert rows[1][7] == "stored" and rows[1][1] == aliquot.subject.study_code


def test_the_aliquot_page_offers_allowed_steps_and_shows_custody(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    aliquot = stored(session, tech, position="C3")
    sign_in(client, "tech")
    page = client.get(f"/aliquots/{aliquot.barcode}").get_data(as_text=True)
    assert f"/aliquots/{aliquot.barcode}/check-out" in page
    assert f"/aliquots/{aliquot.barcode}/check-in" not in page  # not checked out
    assert "Chain of custody" in page and "not in a box → <b>" in page
    response = _post(
        client,
        f"/aliquots/{aliquot.barcode}/check-out",
        {"reason": "qPCR", "condition": "on_dry_ice"},
        f"/aliquots/{aliquot.barcode}",
    )
    assert response.status_code == 303
    page = client.get(f"/aliquots/{aliquot.barcode}").get_data(as_text=True)
    assert f"/aliquots/{aliquot.barcode}/check-in" in page and "Why: qPCR" in page
    assert aliquot.status is AliquotStatus.CHECKED_OUT


def test_batch_disposal_form_takes_repeated_barcodes_and_returns_to_next(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    subject = make_subject(session)
    tubes = make_aliquots(session, 2, specimen=make_specimen(session, make_visit(session, subject)))
    sign_in(client, "tech")
    response = _post(
        client,
        "/storage/dispose",
        {
            "barcodes": [t.barcode for t in tubes],
            "reason": "consent_withdrawn",
            "authorised_by": "tech",
            "next": f"/subjects/{subject.study_code}",
            "confirm": "true",
        },
        "/storage/dispose",
    )
    assert response.status_code == 303
    assert response.headers["Location"] == f"/subjects/{subject.study_code}"
    assert [t.status for t in tubes] == [AliquotStatus.DISPOSED] * 2
    assert actions(session, tubes[0])[-1] == "aliquot.disposed"


def test_a_placement_upload_with_a_bad_row_lists_it_and_places_nothing(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    box, tube = make_box(session), make_aliquot(session)
    sign_in(client, "tech")
    sheet = (
        f"barcode,box_barcode,position\n{tube.barcode},{box.barcode},A1\nNOPE-1,{box.barcode},A2\n"
    )
    response = client.post(
        "/storage/placements/import",
        data={
            "csrf_token": csrf_token(client, "/storage/placements/import"),
            "file": (io.BytesIO(sheet.encode()), "placements.csv"),
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        '<td class="num">3</td><td>Barcode <code class="muted">barcode</code></td>' in page
        and "no aliquot has barcode NOPE-1" in page
    )
    assert location_of(tube) is None


def test_setting_up_a_freezer_rack_and_box_through_the_forms(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    sign_in(client, "tech")
    response = _post(
        client,
        "/storage/freezers",
        {"name": "F9 Plasma -80", "temperature_c": "-80", "room": "B1"},
        "/storage/",
    )
    freezer_path = response.headers["Location"]
    freezer_id = int(freezer_path.rsplit("/", 1)[1])
    _post(client, f"/storage/freezers/{freezer_id}/racks", {"name": "Rack A"}, freezer_path)
    page = client.get(freezer_path).get_data(as_text=True)
    rack_id = re.search(r'<option value="(\d+)"', page).group(1)  # type: ignore[union-attr]
    response = _post(
        client,
        "/storage/boxes",
        {
            "freezer_id": freezer_id,
            "rack_id": rack_id,
            "name": "PLASMA 1",
            "n_rows": 8,
            "n_cols": 12,
        },
        freezer_path,
    )
    box_page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "PLASMA 1" in box_page and "8×12" in box_page
    capacity = client.get("/storage/capacity").get_data(as_text=True)
    assert "F9 Plasma -80" in capacity and ">96<" in capacity


def test_a_freezer_form_error_is_shown_beside_the_form(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    make_freezer(session, "Twin")
    sign_in(client, "tech")
    response = _post(
        client,
        "/storage/freezers",
        {"name": "Twin", "temperature_c": "-80", "room": "B1"},
        "/storage/",
    )
    assert response.status_code == 409
    assert "Freezer Twin already exists" in response.get_data(as_text=True)
