"""Importing a REDCap export: phenotype_link parses and checks every cell; here each instrument
record becomes a visit's diagnosis, scale, treatment or finding, written through the same path
as a recorded visit. All or nothing: every problem is collected and raised once; nothing is
written unless every row is valid. Re-importing a file changes nothing; a changed value is an
audited change with before and after. A dry run answers what would happen and writes nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from lims import audit
from lims.actors import Actor, Role
from lims.audit.models import Action
from lims.bulk_copy import without_cyclic_gc
from lims.errors import FieldError, InvalidInput
from lims.phenotype.models import BodyRegion, FindingKind, PhenotypeImport, TreatmentKind
from lims.phenotype.services._common import (
    IN_LIST_SIZE,
    Change,
    DiagnosisIn,
    FindingIn,
    ScaleIn,
    TreatmentIn,
    VisitPhenotype,
    _inline,
    apply_visit,
    audit_events,
    consent_refusals,
    existing_rows,
    write_changes,
)
from lims.specimens.models import Dystonia, Subject, Visit
from phenotype_link.catalog import lims_instruments
from phenotype_link.instruments import Instrument
from phenotype_link.redcap import (
    ExportErrors,
    ExportProblem,
    InstrumentRecord,
    MappingError,
    load_mapping,
    parse_export,
)
from phenotype_link.redcap.export import VISIT_DATE, VISIT_INSTRUMENT
from phenotype_link.scales import get_scale

# dx_type codes of the LIMS dictionary (phenotype_link/instruments/definitions/diagnosis.toml).
# 6 and 7 (segmental, multifocal) describe spread: the diagnosis stays the subject's own.
DYSTONIA_CODES = {
    "1": Dystonia.CERVICAL,
    "2": Dystonia.LARYNGEAL,
    "3": Dystonia.BLEPHAROSPASM,
    "4": Dystonia.CRANIOFACIAL,
    "5": Dystonia.LIMB,
}
# dx_regions choice n is the n-th region of our vocabulary (both follow dystonia.md §1).
REGION_CODES = {str(n): region for n, region in enumerate(BodyRegion, start=1)}
# Findings kept from the diagnostic instruments; free text (voice_comment, gen_variant) is not.
FINDING_FIELDS = {
    "voice_speech": (FindingKind.VOICE_RATING, ("voice_severity_vas", "voice_breaks",
                     "voice_has_tremor", "voice_nasolaryngoscopy")),
    "family_history": (FindingKind.FAMILY_HISTORY, ("fh_dystonia", "fh_other_movement_disorder")),
}  # fmt: skip
PREVIEW_ROWS = 500  # changes listed in an answer; the counts cover them all


@dataclass(frozen=True)
class ImportResult:
    sha256: str
    is_dry_run: bool
    created: int
    changed: int
    unchanged: int
    changes: list[Change] = field(default_factory=list)  # created and changed, first 500


def _label(instrument: Instrument, name: str, value: Any) -> str:
    """A choice's label ("onabotulinumtoxinA (Botox)"), a yes/no, or the value as text."""
    spec = instrument.field(name)
    if spec is not None and spec.choices and (choice := spec.choice(str(value))) is not None:
        return choice.label
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def _labels(instrument: Instrument, name: str, codes: Any) -> tuple[str, ...]:
    return tuple(_label(instrument, name, c) for c in codes) if isinstance(codes, tuple) else ()


def _decimal(value: Any) -> Decimal | None:
    return Decimal(value) if isinstance(value, int | Decimal) else None


def _day(value: Any) -> date | None:
    return value if isinstance(value, date) else None


def _into(
    out: dict[str, list[Any]], rec: InstrumentRecord, instrument: Instrument, primary: Dystonia
) -> None:
    """Turn one instrument record into the phenotype values it holds."""
    v, n = rec.values, rec.repeat_instance
    if instrument.scale_id is not None:
        ids = get_scale(instrument.scale_id).item_ids
        # blank or coded: missing (None); ints as they are, the scorer and JSON take them
        answers = {i: a if type(a := v.get(i)) is int else _decimal(a) for i in ids}
        total = _decimal(v.get(f"{instrument.scale_id}_total"))
        out["scales"].append(ScaleIn(instrument.scale_id, answers, total, None, n, rec.score))
    elif rec.instrument == "diagnosis":
        dystonia = DYSTONIA_CODES.get(str(v.get("dx_type")), primary)
        regions = tuple(REGION_CODES[c] for c in v.get("dx_regions", ()) if c in REGION_CODES)  # type: ignore[union-attr]
        subtype = (
            _label(instrument, "dx_subtype", v["dx_subtype"]).split(": ")[-1]
            if v.get("dx_subtype")
            else None
        )
        age = v.get("dx_onset_age")
        out["diagnoses"].append(
            DiagnosisIn(dystonia, regions, subtype, age if isinstance(age, int) else None)
        )
    elif rec.instrument == "botulinum_toxin":
        out["treatments"].append(
            TreatmentIn(
                TreatmentKind.BOTULINUM_TOXIN,
                _label(instrument, "btx_product", v.get("btx_product", "")),
                _day(v.get("btx_date")),
                _decimal(v.get("btx_dose_units")),
                _labels(instrument, "btx_muscles", v.get("btx_muscles")),
                (),
                n,
            )
        )
    elif rec.instrument == "oral_medication":
        out["treatments"].append(
            TreatmentIn(
                TreatmentKind.ORAL_MEDICATION,
                _label(instrument, "med_drug", v.get("med_drug", "")),
                _day(v.get("med_start_date")),
                None,
                (),
                (),
                n,
            )
        )
    elif rec.instrument == "dbs":
        side = _label(instrument, "dbs_side", v.get("dbs_side", ""))
        target = f"{_label(instrument, 'dbs_target', v.get('dbs_target', ''))}, {side}"
        out["treatments"].append(
            TreatmentIn(
                TreatmentKind.DBS,
                "deep brain stimulation",
                _day(v.get("dbs_date")),
                None,
                (),
                (target,),
                n,
            )
        )
    elif rec.instrument == "genetic_test":
        # A panel or exome may report no single gene; its instance number keeps it apart.
        gene = _label(instrument, "gen_gene", v["gen_gene"]) if v.get("gen_gene") else None
        out["findings"].append(
            FindingIn(
                FindingKind.GENETIC_TEST,
                (gene or f"test #{n}")[:40],
                _label(instrument, "gen_result", v.get("gen_result", "not reported"))[:120],
            )
        )
    elif rec.instrument in FINDING_FIELDS:
        kind, names = FINDING_FIELDS[rec.instrument]
        out["findings"] += [
            FindingIn(kind, k, _label(instrument, k, v[k])[:120]) for k in names if k in v
        ]


def _problem(p: ExportProblem) -> FieldError:
    return {"row": p.row, "field": p.field, "message": str(p)}  # "Row 4, record …, event …, …"


def _where(rec: InstrumentRecord, field_name: str, text: str) -> FieldError:
    """A problem of one record, named as the parser names its own."""
    message = f"Row {rec.row}, record {rec.record}, event {rec.event or '(none)'}, {field_name}: "
    return {"row": rec.row, "field": field_name, "message": message + text}


def _parse(
    session: Session, text: str, mapping_text: str | None, today: date
) -> list[InstrumentRecord]:
    try:
        mapping = load_mapping(mapping_text) if mapping_text else None
    except MappingError as err:
        raise InvalidInput(f"The mapping file: {err}", field="mapping") from None
    known = set(session.scalars(select(Subject.study_code)))
    try:
        parsed = parse_export(
            text, lims_instruments(), known_subjects=known, today=today, mapping=mapping
        )
    except ExportErrors as err:
        problems = [_problem(p) for p in err.problems]
        raise InvalidInput(
            f"{len(problems)} problems found; nothing was imported", errors=problems
        ) from None
    return list(parsed.records)


@dataclass(frozen=True)
class _Visit:
    id: int
    subject_id: int
    visit_on: date
    primary_diagnosis: Dystonia


def _lock_visits(session: Session, codes: Sequence[str]) -> dict[tuple[str, int], _Visit]:
    """Lock the file's subjects and read their visits, as compact rows, by (study code, visit
    number). The subjects are locked in id order, as every specimen service locks them, so a
    withdrawal or a new visit waits for the import, or the import for them."""
    ids: list[int] = []
    for start in range(0, len(codes), IN_LIST_SIZE):
        chunk = codes[start : start + IN_LIST_SIZE]
        ids += session.scalars(select(Subject.id).where(Subject.study_code.in_(chunk)))
    ids.sort()  # one order across the chunks too: two imports never lock crosswise
    found: dict[tuple[str, int], _Visit] = {}
    for start in range(0, len(ids), IN_LIST_SIZE):
        chunk_ids = _inline(ids[start : start + IN_LIST_SIZE])
        locking = select(Subject.id).where(Subject.id.in_(chunk_ids)).order_by(Subject.id)
        session.execute(locking.with_for_update()).all()
        stmt = (
            select(Subject.study_code, Visit.visit_number, Visit.id, Subject.id,
                   Visit.visit_on, Subject.primary_diagnosis)
            .join(Visit.subject)
            .where(Subject.id.in_(chunk_ids))
        )  # fmt: skip
        for code, number, visit_id, subject_id, visit_on, primary in session.execute(stmt):
            found[(code, number)] = _Visit(visit_id, subject_id, visit_on, primary)
    return found


def _check_dates(rec: InstrumentRecord, visit: _Visit) -> FieldError | None:
    """The REDCap visit date must be the LIMS visit's date, to the day (no tolerance): both are
    calendar days at the site, and the days since the last toxin injection at collection and
    the de-identified days since the first visit are counted from the LIMS date. A day off is
    a typing slip or an event mapped to the wrong visit; either way one of them must change."""
    given = rec.values.get(VISIT_DATE) if rec.instrument == VISIT_INSTRUMENT else None
    if not isinstance(given, date) or given == visit.visit_on:
        return None
    return _where(rec, VISIT_DATE, (
        f"{given.isoformat()!r} is not the date of visit {rec.visit_number} in the LIMS "
        f"({visit.visit_on.isoformat()}); correct the date in REDCap or the visit in the LIMS"
    ))  # fmt: skip


def _changes(
    session: Session, records: list[InstrumentRecord], visits: dict[tuple[str, int], _Visit]
) -> tuple[list[Change], list[FieldError]]:
    """Every change the records make to the stored rows, and every problem: a visit the LIMS
    lacks, a visit date that disagrees, a scale that cannot be scored, consent that refuses."""
    instruments = {i.name: i for i in lims_instruments()}
    grouped: dict[tuple[str, int], dict[str, list[Any]]] = defaultdict(lambda: defaultdict(list))
    first_row: dict[int, InstrumentRecord] = {}  # subject id -> its first record in the file
    problems: list[FieldError] = []
    for rec in records:
        key = (rec.record, rec.visit_number)
        if (visit := visits.get(key)) is None:
            why = f"{rec.record} has no visit {rec.visit_number} in the LIMS; register it first"
            problems.append(_where(rec, "redcap_event_name", why))
            continue
        first_row.setdefault(visit.subject_id, rec)
        if (wrong := _check_dates(rec, visit)) is not None:
            problems.append(wrong)
        _into(grouped[key], rec, instruments[rec.instrument], visit.primary_diagnosis)
    existing = existing_rows(session, [visits[k].id for k in grouped])
    changes: list[Change] = []
    news: set[int] = set()  # subjects with something new or changed
    for key, values in grouped.items():
        visit = visits[key]
        phenotype = VisitPhenotype(**{k: tuple(v) for k, v in values.items()})
        label = f"{key[0]} V{key[1]}"
        made, visit_problems = apply_visit(visit.id, label, phenotype, existing[visit.id])
        changes += made
        problems += visit_problems
        if any(c.kind != "unchanged" for c in made):
            news.add(visit.subject_id)
    refused = consent_refusals(session, {s: first_row[s].record for s in news})
    problems += [_where(first_row[s], "record_id", why) for s, why in sorted(refused.items())]
    return changes, problems


def import_redcap(
    session: Session,
    actor: Actor,
    *,
    data: bytes,
    mapping: str | None = None,
    filename: str | None = None,
    dry_run: bool = False,
    today: date,
) -> ImportResult:
    """Import a REDCap export (raw or labels, optionally through a mapping file), all or nothing."""
    actor.require(Role.TECHNICIAN)  # reviewers read; the bench records
    with without_cyclic_gc():
        return _import(session, actor, data, mapping, filename, dry_run=dry_run, today=today)


def _import(
    session: Session,
    actor: Actor,
    data: bytes,
    mapping: str | None,
    filename: str | None,
    *,
    dry_run: bool,
    today: date,
) -> ImportResult:
    digest = hashlib.sha256(data).hexdigest()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput(
            "The export is not UTF-8 text (REDCap writes UTF-8)", field="file"
        ) from None
    records = _parse(session, text, mapping, today)
    visits = _lock_visits(session, sorted({r.record for r in records}))
    changes, problems = _changes(session, records, visits)
    if problems:
        raise InvalidInput(f"{len(problems)} problems found; nothing was imported", errors=problems)
    counts = {k: sum(c.kind == k for c in changes) for k in ("created", "changed", "unchanged")}
    shown = [c for c in changes if c.kind != "unchanged"][:PREVIEW_ROWS]
    result = ImportResult(
        digest, dry_run, counts["created"], counts["changed"], counts["unchanged"], shown
    )
    if dry_run:
        session.rollback()  # nothing was written; this lets go of the subjects' locks
        return result
    write_changes(session, changes)
    row = PhenotypeImport(sha256=digest, filename=filename, created_count=counts["created"],
                          changed_count=counts["changed"], unchanged_count=counts["unchanged"],
                          imported_by=actor.username)  # fmt: skip
    session.add(row)
    session.flush()
    events = [*audit_events(changes), audit.Event(Action.PHENOTYPES_IMPORTED, row, after={
        "sha256": digest, "filename": filename, **counts})]  # fmt: skip
    audit.record_many(session, actor, events)
    session.commit()
    return result
