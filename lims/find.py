"""The find box in every page's header, and GET /api/v1/find: one service over the features.

A code scanned or typed (an aliquot or tube barcode, a box, a subject's study code or NINDS
GUID, a visit "NA1-0007 V2", a print job "PJ-42") leads to every record it names: one goes
straight to its page, several are listed, none says so. Each feature finds its own records
(and checks who may see them); this module, above the features like home.py, only asks them
in turn. It also hands the audit trail the features' names for its objects (DIRECTORY).
"""

from __future__ import annotations

from collections.abc import Collection

from flask import Blueprint, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import login_required
from marshmallow import fields, validate
from sqlalchemy.orm import Session  # the type of the argument only: every query is a service's

from lims.actors import STAFF, Actor
from lims.audit.services import KIND_WORDS, Directory, Named
from lims.auth import timezones
from lims.auth.services import account_codes, viewer_zone
from lims.db import get_session
from lims.errors import InvalidInput, NotFound
from lims.labels.services import find_print_jobs, label_codes
from lims.requests.services import request_codes
from lims.specimens import barcodes
from lims.specimens.services import find_records, record_codes
from lims.storage.services import find_boxes, storage_codes
from lims.web import PAGE_ROLES, Schema, current_actor, documented, dump, token_required

FINDERS = (find_records, find_boxes, find_print_jobs)
NAMERS = (account_codes, record_codes, storage_codes, label_codes, request_codes)
WHAT = "aliquot, primary tube, box, subject, visit or print job"


def find(session: Session, actor: Actor, text: str) -> list[Named]:
    """Every record a scanned or typed code names, exactly (a near match is a wrong tube)."""
    actor.require(*STAFF)
    code = " ".join(barcodes.normalise(text).split())
    if not code:
        raise InvalidInput(f"Scan or type the code of an {WHAT}", field="q")
    shaped = barcodes.is_issued_aliquot_barcode(code) or barcodes.is_box_barcode(code)
    if shaped and (problem := barcodes.check_problem(code)):
        raise InvalidInput(problem, field="q")
    found = [named for finder in FINDERS for named in finder(session, actor, code)]
    if not found:
        raise NotFound(f"Nothing has the code {code}: no {WHAT}", field="q")
    return found


def name_refs(session: Session, refs: Collection[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The codes of audited objects, each feature naming its own, one query per type."""
    names: dict[tuple[str, str], str] = {}
    for namer in NAMERS:
        names |= namer(session, refs)
    return names


DIRECTORY = Directory(find=find, name=name_refs, zone_of=viewer_zone, to_utc=timezones.to_utc)

# Where each kind of record has its page. A visit is shown on its subject's page.
PAGES = {
    "subject": "specimens.subject",
    "visit": "specimens.subject",
    "specimen": "specimens.specimen",
    "aliquot": "storage.aliquot",
    "box": "storage.box",
    "print_job": "labels.print_job",
}


def page_of(named: Named) -> str:
    args = dict(named.route_args)
    if named.kind == "visit":
        return url_for(PAGES["visit"], study_code=args["study_code"]) + (
            f"#visit-{args['visit_number']}"
        )
    return url_for(PAGES[named.kind], **args)


def kind_word(kind: str) -> str:
    return KIND_WORDS.get(kind, kind)


bp = Blueprint("find", __name__)
PAGE_ROLES["find.find_page"] = STAFF  # what it finds is what staff may open


@bp.get("/find")
@login_required
def find_page() -> ResponseReturnValue:
    """The header's find box: one record goes straight to its page; several are listed."""
    query = request.args.get("q", "")
    try:
        found = find(get_session(), current_actor(), query)
    except (InvalidInput, NotFound) as err:
        return render_template("find.html", query=query, found=[], problem=err.detail), err.status
    if len(found) == 1:
        return redirect(page_of(found[0]), 303)
    rows = [(kind_word(n.kind), n, page_of(n)) for n in found]
    return render_template("find.html", query=query, found=rows, problem=None)


class FindQueryIn(Schema):
    q = fields.String(
        required=True,
        validate=validate.Length(min=1, max=64),
        metadata={"description": "a barcode or code, as scanned or typed"},
    )


class FoundOut(Schema):
    kind = fields.String(metadata={"description": "subject, visit, specimen, aliquot, box..."})
    code = fields.String()
    detail = fields.String()
    url = fields.Method("_url", metadata={"description": "the record's page"})

    def _url(self, named: Named) -> str:
        return page_of(named)


class FoundListOut(Schema):
    items = fields.List(fields.Nested(FoundOut))


api = Blueprint("find_api", __name__, url_prefix="/api/v1")


@api.get("/find")
@token_required
@documented(
    summary="Every record a scanned or typed code names (staff); 404 when none",
    query=FindQueryIn,
    response=FoundListOut,
)
def find_api() -> ResponseReturnValue:
    args = FindQueryIn().load(request.args)
    return dump(FoundListOut(), {"items": find(get_session(), current_actor(), args["q"])})
