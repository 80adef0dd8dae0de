"""Label printers: set up as data, jobs sent over a real socket, read back as a scanner would."""

from __future__ import annotations

import socket
import sys
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

import label_printing as lp
from lims.actors import Actor
from lims.audit.models import Action, AuditEvent
from lims.errors import Conflict, Forbidden, InvalidInput
from lims.labels.models import Printer, PrintJob
from lims.labels.printers import add_printer, change_printer, send_labels
from lims.labels.services import vial_label
from lims.labels.transport import PrinterUnavailable
from tests.barcode_reading import decode, rasterise
from tests.conftest import bearer, csrf_token, sign_in
from tests.factories import make_aliquots, make_specimen
from tests.network_printer import free_port, listening_printer
from tests.zpl_reading import render_zpl_png


def zebra(session: Session, admin: Actor, port: int, **values: object) -> Printer:
    return add_printer(
        session,
        admin,
        **{
            "name": "Bench Zebra",
            "language": "zpl",
            "host": "127.0.0.1",
            "port": port,
            "stock_id": "cryo-1.28x0.5-203",
            "dpi": 203,
            **values,
        },
    )


def test_a_tubes_own_label_reaches_a_network_printer_as_zpl_that_renders_and_scans(
    session: Session, admin: Actor, tech: Actor
) -> None:
    tube = make_specimen(session)  # the LIMS issues its barcode
    with listening_printer() as printer:
        job = send_labels(
            session,
            tech,
            printer_id=zebra(session, admin, printer.port).id,
            barcodes=[tube.barcode],
        )
        [received] = printer.wait_for(1)
    [image] = render_zpl_png(received.decode("utf-8"), 203)

    assert received.startswith(b"^XA") and received.rstrip().endswith(b"^XZ")
    assert decode(image) == {"Code128": [tube.barcode], "DataMatrix": [tube.barcode]}
    assert job.printer is not None and job.printer.name == "Bench Zebra"
    assert job.output_format == "zpl" and [label.barcode for label in job.labels] == [tube.barcode]


def test_the_job_is_the_zpl_the_library_makes_with_the_printers_offsets(
    session: Session, admin: Actor, tech: Actor
) -> None:
    aliquots = make_aliquots(session, 2)
    with listening_printer() as printer:
        zebra_id = zebra(session, admin, printer.port, x_offset_mm=0.5, y_offset_mm=0.25).id
        send_labels(session, tech, printer_id=zebra_id, barcodes=[a.barcode for a in aliquots])
        [received] = printer.wait_for(1)
    expected = lp.render_zpl(
        [vial_label(a) for a in aliquots],
        lp.get_stock("cryo-1.28x0.5-203"),
        offset_mm=(0.5, 0.25),
    )
    # zplkit has no font-0 µ (docs/dev/label-printing.md): read the symbols with "u" for "µ".
    images = render_zpl_png(received.decode("utf-8").replace("µ", "u"), 203)

    assert received.decode("utf-8") == expected
    assert [decode(image) for image in images] == [
        {"Code128": [a.barcode], "DataMatrix": [a.barcode]} for a in aliquots
    ]


def test_a_printer_that_refuses_the_connection_is_named_and_nothing_is_recorded(
    session: Session, admin: Actor, tech: Actor
) -> None:
    code = make_aliquots(session, 1)[0].barcode
    port = free_port()
    printer = zebra(session, admin, port)

    with pytest.raises(
        PrinterUnavailable, match=f"printer Bench Zebra at 127.0.0.1:{port} refused"
    ):
        send_labels(session, tech, printer_id=printer.id, barcodes=[code])
    session.rollback()  # what the request boundary does with any error
    assert session.scalar(select(PrintJob)) is None


def test_a_printer_that_does_not_answer_in_time_is_named_with_the_timeout(
    session: Session, admin: Actor, tech: Actor
) -> None:
    code = make_aliquots(session, 1)[0].barcode
    # A listening socket whose backlog is full: Linux drops further SYNs, so connect waits.
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(0)
    port = server.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(("127.0.0.1", port))
        fillers.append(filler)
    printer = zebra(session, admin, port)
    try:
        with pytest.raises(
            PrinterUnavailable,
            match=rf"printer Bench Zebra at 127\.0\.0\.1:{port} did not answer within 0\.3 s",
        ):
            send_labels(session, tech, printer_id=printer.id, barcodes=[code], timeout_s=0.3)
    finally:
        for filler in fillers:
            filler.close()
        server.close()


def test_a_pdf_printer_gets_the_sheet_through_the_configured_print_command(
    session: Session, admin: Actor, tech: Actor, tmp_path: Path
) -> None:
    code = make_aliquots(session, 1)[0].barcode
    laser = add_printer(
        session,
        admin,
        name="Office laser",
        language="pdf",
        queue="lab-laser",
        stock_id="cryo-sheet-letter",
        dpi=600,
        x_offset_mm=1.0,
        y_offset_mm=-0.5,
    )
    # Stands in for `lp -d {queue}`: the same PDF on standard input, kept in a file.
    command = (
        f"{sys.executable} -c 'import sys, shutil; "
        f'shutil.copyfileobj(sys.stdin.buffer, open(sys.argv[1], "wb"))\' '
        f"{tmp_path}/{{queue}}.pdf"
    )
    job = send_labels(session, tech, printer_id=laser.id, barcodes=[code], print_command=command)
    sent = (tmp_path / "lab-laser.pdf").read_bytes()
    [page] = rasterise(sent, 300)
    grid = lp.get_stock("cryo-sheet-letter").sheet
    assert grid is not None
    # Position 1 of the sheet, moved by the printer's offsets (1 mm right, 0.5 mm up).
    left = round((grid.margin_left_in + 1.0 / 25.4) * 300)
    top = round((grid.margin_top_in - 0.5 / 25.4) * 300)
    first_label = page.crop((left, top, left + round(1.28 * 300), top + round(0.5 * 300)))

    assert job.output_format == "pdf" and job.printer is not None
    assert job.printer.name == "Office laser"
    assert decode(first_label) == {"Code128": [code], "DataMatrix": [code]}


def test_a_failing_print_command_is_reported_with_its_message(
    session: Session, admin: Actor, tech: Actor
) -> None:
    code = make_aliquots(session, 1)[0].barcode
    laser = add_printer(
        session,
        admin,
        name="Office laser",
        language="pdf",
        queue="nosuch",
        stock_id="cryo-sheet-letter",
        dpi=300,
    )
    command = (
        f"{sys.executable} -c 'import sys; sys.exit(\"lp: The printer or class does not exist.\")'"
    )
    with pytest.raises(PrinterUnavailable, match=r"queue nosuch.*exit 1.*does not exist"):
        send_labels(session, tech, printer_id=laser.id, barcodes=[code], print_command=command)


def test_only_admins_set_up_printers_and_every_problem_is_named_at_once(
    session: Session, admin: Actor, tech: Actor
) -> None:
    with pytest.raises(Forbidden):
        zebra(session, tech, 9100)
    with pytest.raises(InvalidInput) as err:
        zebra(session, admin, 9100, host="", stock_id="cryo-sheet-letter", dpi=600)

    assert {e["field"] for e in err.value.errors} == {"host", "stock_id", "dpi"}
    assert "cryo-sheet-letter is a laser sheet" in err.value.detail


def test_a_zpl_stock_laid_out_for_another_resolution_is_refused(
    session: Session, admin: Actor
) -> None:
    with pytest.raises(InvalidInput, match=r"cryo-1\.28x0\.5-203 is laid out for 203 dpi"):
        zebra(session, admin, 9100, dpi=300)


def test_changing_a_printer_audits_only_what_changed(session: Session, admin: Actor) -> None:
    printer = zebra(session, admin, 9100)
    change_printer(session, admin, printer_id=printer.id, x_offset_mm=0.4, port=9100)
    event = session.scalars(
        select(AuditEvent).where(AuditEvent.action == Action.PRINTER_CHANGED)
    ).one()

    assert (event.before, event.after) == ({"x_offset_mm": 0.0}, {"x_offset_mm": 0.4})


def test_a_switched_off_printer_takes_no_jobs(session: Session, admin: Actor, tech: Actor) -> None:
    code = make_aliquots(session, 1)[0].barcode
    printer = zebra(session, admin, 9100, is_active=False)
    with pytest.raises(Conflict, match="Bench Zebra is switched off"):
        send_labels(session, tech, printer_id=printer.id, barcodes=[code])


def test_the_api_sets_up_a_printer_and_prints_on_it(
    client: FlaskClient, session: Session, admin: Actor, tech: Actor
) -> None:
    code = make_aliquots(session, 1)[0].barcode
    with listening_printer() as printer:
        created = client.post(
            "/api/v1/printers",
            headers=bearer(client, "admin"),
            json={
                "name": "Bench Zebra",
                "language": "zpl",
                "host": "127.0.0.1",
                "port": printer.port,
                "stock_id": "cryo-1.28x0.5-203",
                "dpi": 203,
            },
        )
        tech_headers = bearer(client, "tech")
        listed = client.get("/api/v1/printers", headers=tech_headers).get_json()["items"]
        sent = client.post(
            f"/api/v1/printers/{created.get_json()['id']}/jobs",
            headers=tech_headers,
            json={"barcodes": [code]},
        )
        [received] = printer.wait_for(1)

    assert created.status_code == 201 and created.get_json()["port"] == printer.port
    assert [p["name"] for p in listed] == ["Bench Zebra"]
    assert sent.status_code == 201 and sent.get_json()["printer"] == "Bench Zebra"
    assert f"^FD{code}^FS".encode() in received


def test_the_api_answers_502_naming_a_printer_that_is_not_there(
    client: FlaskClient, session: Session, admin: Actor, tech: Actor
) -> None:
    code = make_aliquots(session, 1)[0].barcode
    port = free_port()
    printer = zebra(session, admin, port)
    response = client.post(
        f"/api/v1/printers/{printer.id}/jobs",
        headers=bearer(client, "tech"),
        json={"barcodes": [code]},
    )

    assert response.status_code == 502 and response.mimetype == "application/problem+json"
    assert f"printer Bench Zebra at 127.0.0.1:{port} refused" in response.get_json()["detail"]


def test_a_technician_picks_a_printer_once_and_enter_after_a_scan_prints(
    client: FlaskClient, session: Session, admin: Actor, tech: Actor
) -> None:
    codes = [a.barcode for a in make_aliquots(session, 2)]
    sign_in(client, "tech")
    with listening_printer() as printer:
        zebra_id = zebra(session, admin, printer.port).id
        token = csrf_token(client, "/labels/print")
        client.post("/labels/printer", data={"printer_id": zebra_id, "csrf_token": token})
        page = client.get("/labels/print").get_data(as_text=True)
        for code in codes:  # the scan field submits on Enter, one tube at a time
            client.post("/labels/send", data={"barcodes": code, "csrf_token": token})
        received = printer.wait_for(2)
    after = client.get("/labels/print").get_data(as_text=True)

    assert 'id="scan"' in page and "Enter prints it on <b>Bench Zebra</b>" in page
    assert [next(c for c in codes if f"^FD{c}^FS".encode() in job) for job in received] == codes
    assert "Sent 1 label to Bench Zebra (127.0.0.1:" in after
    assert after.count("<td>Bench Zebra</td>") == 2  # the jobs table names the printer


def test_the_print_page_offers_the_calibration_page_and_the_tube_page_its_label(
    client: FlaskClient, session: Session, tech: Actor
) -> None:
    tube = make_specimen(session)
    sign_in(client, "tech")
    page = client.get("/labels/print").get_data(as_text=True)
    calibration = client.get("/labels/calibration.pdf?stock=cryo-sheet-letter")
    roll = client.get("/labels/calibration.pdf?stock=cryo-1.28x0.5-203")
    tube_page = client.get(f"/specimens/{tube.barcode}").get_data(as_text=True)

    assert 'id="calibration-cryo-sheet-letter"' in page
    assert calibration.status_code == 200 and calibration.mimetype == "application/pdf"
    assert calibration.data == lp.render_calibration_pdf(lp.get_stock("cryo-sheet-letter"))
    assert roll.status_code == 422
    assert f'href="/labels/print?barcodes={tube.barcode}"' in tube_page


def test_the_admin_page_adds_a_printer_and_technicians_cannot_open_it(
    client: FlaskClient, session: Session, admin: Actor, tech: Actor
) -> None:
    sign_in(client, "admin")
    token = csrf_token(client, "/labels/printers")
    form = {
        "name": "Bench Zebra",
        "language": "zpl",
        "host": "10.0.0.5",
        "port": "",
        "queue": "",
        "stock_id": "box-2x1-203",
        "dpi": "203",
        "x_offset_mm": "0.3",
        "y_offset_mm": "",
        "is_active": "on",
        "csrf_token": token,
    }
    added = client.post("/labels/printers", data=form)
    page = client.get("/labels/printers").get_data(as_text=True)
    printer = session.scalars(select(Printer)).one()
    client.post("/logout", data={"csrf_token": token})
    sign_in(client, "tech")

    assert added.status_code == 302 and "ZPL · 10.0.0.5:9100" in page
    assert (printer.port, printer.x_offset_mm, printer.y_offset_mm) == (9100, 0.3, 0.0)
    assert client.get("/labels/printers").status_code == 403
