"""The criteria document: what an investigator asks for, as JSON (docs/user/request-criteria.md).

`parse_criteria` reads the JSON the API and the stored request carry and returns a frozen
`Criteria`; every problem names its field path ("criteria.scores[0].max") and is reported at once.
`Criteria.document()` writes the canonical form back: defaults left out, set-like lists sorted,
so two ways of writing one question give one document, one hash and one noise seed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from lims.errors import FieldError, InvalidInput, shown
from lims.phenotype.models import BodyRegion
from lims.specimens.duo import DYSTONIA_MONDO, PERMISSIONS, DuoTerm
from lims.specimens.models import Dystonia, Sex, SpecimenType
from phenotype_link.scales import SCALES

ROOT = "criteria"
# SPREC fluid-code elements 3 to 7 (lims/specimens/sprec.py), by the name the document uses,
# with the 1-based character where each one-letter element sits in "SER-SST-A-E-N-B-A".
SPREC_ELEMENTS: dict[str, int] = {
    "pre_centrifugation": 9,
    "centrifugation": 11,
    "second_centrifugation": 13,
    "post_centrifugation": 15,
    "long_term_storage": 17,
}
SPREC_LETTERS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
E = TypeVar("E", Dystonia, BodyRegion, SpecimenType, Sex)
MAX_SCORES = 5  # score ranges per query: enough for any real question, small enough to read


@dataclass(frozen=True)
class Range:
    """Inclusive bounds; None is open."""

    min: float | None = None
    max: float | None = None

    @property
    def is_open(self) -> bool:
        return self.min is None and self.max is None

    def document(self) -> dict[str, float]:
        return {k: v for k, v in (("min", self.min), ("max", self.max)) if v is not None}


@dataclass(frozen=True)
class ScoreRange:
    """A rating-scale score at the visit of collection: the total, or one subscale."""

    scale: str
    subscale: str | None = None
    min: float | None = None
    max: float | None = None

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"scale": self.scale}
        if self.subscale is not None:
            doc["subscale"] = self.subscale
        return doc | Range(self.min, self.max).document()


@dataclass(frozen=True)
class Purpose:
    """The research purpose as a DUO permission, the modifiers it declares about itself, and
    for DS the disease (a MONDO id, dystonia unless told)."""

    term: DuoTerm
    modifiers: frozenset[DuoTerm] = frozenset()
    disease: str = DYSTONIA_MONDO

    def document(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"term": self.term.value}
        if self.modifiers:
            doc["modifiers"] = sorted(m.value for m in self.modifiers)
        if self.term is DuoTerm.DS and self.disease != DYSTONIA_MONDO:
            doc["disease"] = self.disease
        return doc


@dataclass(frozen=True)
class Criteria:
    """One question about the collection. Empty sets and open ranges do not filter."""

    purpose: Purpose
    diagnoses: frozenset[Dystonia] = frozenset()
    body_regions: frozenset[BodyRegion] = frozenset()  # any of them, at the visit
    specimen_types: frozenset[SpecimenType] = frozenset()
    min_volume_ul: int | None = None  # per aliquot
    min_visits: int = 1  # visits with matching aliquots, per subject
    scores: tuple[ScoreRange, ...] = ()  # all must hold at the visit of collection
    toxin_weeks: Range = field(default_factory=Range)  # since the last BoNT injection
    age: Range = field(default_factory=Range)  # at collection, whole years
    sexes: frozenset[Sex] = frozenset()
    disease_duration_years: Range = field(default_factory=Range)  # at collection
    sites: frozenset[str] = frozenset()  # site codes
    sprec: tuple[tuple[str, frozenset[str]], ...] = ()  # (element, allowed letters), by name
    max_freeze_thaw: int | None = None

    def document(self) -> dict[str, Any]:
        """The canonical JSON document: what is stored, hashed and seeds the noise."""
        doc: dict[str, Any] = {"purpose": self.purpose.document()}
        for name in ("diagnoses", "body_regions", "specimen_types", "sexes", "sites"):
            if values := getattr(self, name):
                doc[name] = sorted(str(v) for v in values)
        if self.min_volume_ul is not None:
            doc["min_volume_ul"] = self.min_volume_ul
        if self.min_visits != 1:
            doc["min_visits"] = self.min_visits
        if self.scores:
            doc["scores"] = [s.document() for s in self.scores]
        for name in ("toxin_weeks", "age", "disease_duration_years"):
            if not (bounds := getattr(self, name)).is_open:
                doc[name] = bounds.document()
        if self.sprec:
            doc["sprec"] = {name: sorted(letters) for name, letters in self.sprec}
        if self.max_freeze_thaw is not None:
            doc["max_freeze_thaw"] = self.max_freeze_thaw
        return doc


FIELDS = frozenset(
    {
        "purpose",
        "diagnoses",
        "body_regions",
        "specimen_types",
        "min_volume_ul",
        "min_visits",
        "scores",
        "toxin_weeks",
        "age",
        "sexes",
        "disease_duration_years",
        "sites",
        "sprec",
        "max_freeze_thaw",
    }
)


class _Reader:
    """Reads one document, collecting every problem with its path instead of stopping at one."""

    def __init__(self) -> None:
        self.problems: list[FieldError] = []

    def fail(self, path: str, message: str) -> None:
        self.problems.append({"field": path, "message": message})

    def mapping(self, value: object, path: str, known: frozenset[str]) -> Mapping[str, Any]:
        if not isinstance(value, Mapping):
            self.fail(path, "must be an object")
            return {}
        for key in sorted(set(value) - known, key=str):
            self.fail(
                f"{path}.{shown(key)}", f"is not a criterion; known: {', '.join(sorted(known))}"
            )
        return value

    def number(
        self, value: object, path: str, *, low: float = 0, high: float = 1e9, whole: bool = False
    ) -> float | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail(path, f"must be a number, not {shown(repr(value))}")
            return None
        if whole and value != int(value):
            self.fail(path, f"must be a whole number, not {value}")
            return None
        if not low <= value <= high:
            self.fail(path, f"{value} is outside {low:g} to {high:g}")
            return None
        return int(value) if whole or float(value).is_integer() else float(value)

    def whole(self, value: object, path: str, *, low: int = 0, high: int = 10**9) -> int | None:
        number = self.number(value, path, low=low, high=high, whole=True)
        return None if number is None else int(number)

    def range(self, value: object, path: str, *, high: float, whole: bool = False) -> Range:
        if value is None:
            return Range()
        doc = self.mapping(value, path, frozenset({"min", "max"}))
        low = self.number(doc.get("min"), f"{path}.min", high=high, whole=whole)
        top = self.number(doc.get("max"), f"{path}.max", high=high, whole=whole)
        if low is not None and top is not None and low > top:
            self.fail(f"{path}.max", f"{top:g} is below the minimum {low:g}")
        return Range(low, top)

    def choices(self, value: object, path: str, enum: type[E]) -> frozenset[E]:
        if value is None:
            return frozenset()
        if not isinstance(value, list):
            self.fail(path, "must be a list")
            return frozenset()
        found: set[E] = set()
        for n, item in enumerate(value):
            try:
                found.add(enum(item))
            except ValueError:
                allowed = ", ".join(e.value for e in enum)
                self.fail(f"{path}[{n}]", f"{shown(repr(item))} is not one of: {allowed}")
        return frozenset(found)


def parse_criteria(doc: Mapping[str, Any]) -> Criteria:
    """Read a criteria document; InvalidInput lists every problem by its field path."""
    r = _Reader()
    doc = r.mapping(doc, ROOT, FIELDS)
    p = f"{ROOT}."
    criteria = Criteria(
        purpose=_purpose(r, doc.get("purpose"), p + "purpose"),
        diagnoses=r.choices(doc.get("diagnoses"), p + "diagnoses", Dystonia),
        body_regions=r.choices(doc.get("body_regions"), p + "body_regions", BodyRegion),
        specimen_types=r.choices(doc.get("specimen_types"), p + "specimen_types", SpecimenType),
        min_volume_ul=r.whole(doc.get("min_volume_ul"), p + "min_volume_ul", high=100_000),
        min_visits=r.whole(doc.get("min_visits", 1), p + "min_visits", low=1, high=100) or 1,
        scores=_scores(r, doc.get("scores"), p + "scores"),
        toxin_weeks=r.range(doc.get("toxin_weeks"), p + "toxin_weeks", high=5200),
        age=r.range(doc.get("age"), p + "age", high=130, whole=True),
        sexes=r.choices(doc.get("sexes"), p + "sexes", Sex),
        disease_duration_years=r.range(
            doc.get("disease_duration_years"), p + "disease_duration_years", high=130, whole=True
        ),
        sites=_sites(r, doc.get("sites"), p + "sites"),
        sprec=_sprec(r, doc.get("sprec"), p + "sprec"),
        max_freeze_thaw=r.whole(doc.get("max_freeze_thaw"), p + "max_freeze_thaw", high=1000),
    )
    if r.problems:
        count = len(r.problems)
        raise InvalidInput(
            f"The criteria have {count} problem{'s' if count != 1 else ''}: "
            + "; ".join(f"{e['field']} {e['message']}" for e in r.problems[:3])
            + ("; ..." if count > 3 else ""),
            errors=r.problems,
        )
    return criteria


def duo_term(value: object) -> DuoTerm:
    """A DUO term by CURIE ("DUO:0000042") or by its short name ("GRU"); ValueError if neither."""
    if isinstance(value, str):
        text = value.strip()
        if text.upper() in DuoTerm.__members__:
            return DuoTerm[text.upper()]
        return DuoTerm(text.upper())
    raise ValueError(value)


def _purpose(r: _Reader, value: object, path: str) -> Purpose:
    fallback = Purpose(DuoTerm.GRU)
    if value is None:
        r.fail(
            path,
            "is required: the research purpose as a DUO term (e.g. HMB), so consent can be checked",
        )
        return fallback
    doc = r.mapping(value, path, frozenset({"term", "modifiers", "disease"}))
    try:
        term = duo_term(doc.get("term"))
    except ValueError:
        r.fail(f"{path}.term", f"{shown(repr(doc.get('term')))} is not a DUO term")
        return fallback
    if term not in PERMISSIONS:
        names = ", ".join(sorted(t.name for t in PERMISSIONS))
        r.fail(f"{path}.term", f"{term.name} is a modifier, not a research purpose ({names})")
    modifiers: set[DuoTerm] = set()
    raw = doc.get("modifiers") or []
    if not isinstance(raw, list):
        r.fail(f"{path}.modifiers", "must be a list")
        raw = []
    for n, item in enumerate(raw):
        try:
            modifier = duo_term(item)
        except ValueError:
            r.fail(f"{path}.modifiers[{n}]", f"{shown(repr(item))} is not a DUO term")
            continue
        if modifier in PERMISSIONS:
            r.fail(f"{path}.modifiers[{n}]", f"{modifier.name} is a purpose, not a modifier")
        modifiers.add(modifier)
    disease = doc.get("disease") or DYSTONIA_MONDO
    if not (isinstance(disease, str) and disease.startswith("MONDO:") and disease[6:].isdigit()):
        r.fail(f"{path}.disease", f"{shown(repr(disease))} is not a MONDO id (MONDO:0003441)")
        disease = DYSTONIA_MONDO
    return Purpose(term, frozenset(modifiers), disease)


def _scores(r: _Reader, value: object, path: str) -> tuple[ScoreRange, ...]:
    if value is None:
        return ()
    if not isinstance(value, list):
        r.fail(path, "must be a list")
        return ()
    if len(value) > MAX_SCORES:
        r.fail(path, f"at most {MAX_SCORES} score ranges, not {len(value)}")
    found: list[ScoreRange] = []
    keys = frozenset({"scale", "subscale", "min", "max"})
    for n, item in enumerate(value[:MAX_SCORES]):
        here = f"{path}[{n}]"
        doc = r.mapping(item, here, keys)
        scale_id = doc.get("scale")
        scale = SCALES.get(scale_id) if isinstance(scale_id, str) else None
        if scale is None:
            r.fail(
                f"{here}.scale",
                f"{shown(repr(scale_id))} is not a scale; known: " + ", ".join(sorted(SCALES)),
            )
            continue
        subscale = doc.get("subscale")
        if subscale is not None and subscale not in dict(scale.subscale_names):
            names = ", ".join(name for name, _ in scale.subscale_names) or "none"
            r.fail(
                f"{here}.subscale",
                f"{shown(repr(subscale))} is not a subscale of {scale_id} ({names})",
            )
            continue
        bounds = r.range({k: doc[k] for k in ("min", "max") if k in doc}, here, high=10_000)
        if bounds.is_open:
            r.fail(here, "needs a min, a max or both")
        found.append(ScoreRange(scale.id, subscale, bounds.min, bounds.max))
    return tuple(found)


def _sites(r: _Reader, value: object, path: str) -> frozenset[str]:
    if value is None:
        return frozenset()
    if not isinstance(value, list):
        r.fail(path, "must be a list of site codes")
        return frozenset()
    codes: set[str] = set()
    for n, item in enumerate(value):
        if not isinstance(item, str) or not item.strip() or len(item.strip()) > 8:
            r.fail(f"{path}[{n}]", f"{shown(repr(item))} is not a site code")
        else:
            codes.add(item.strip().upper())
    return frozenset(codes)


def _sprec(r: _Reader, value: object, path: str) -> tuple[tuple[str, frozenset[str]], ...]:
    if value is None:
        return ()
    doc = r.mapping(value, path, frozenset(SPREC_ELEMENTS))
    found: list[tuple[str, frozenset[str]]] = []
    for name in sorted(set(doc) & set(SPREC_ELEMENTS)):
        letters = doc[name]
        here = f"{path}.{name}"
        if not isinstance(letters, list) or not letters:
            r.fail(here, 'must be a list of SPREC letters (e.g. ["A", "B"])')
            continue
        bad = [x for x in letters if not (isinstance(x, str) and x.upper() in SPREC_LETTERS)]
        if bad:
            r.fail(here, f"{shown(repr(bad[0]))} is not a SPREC letter A-Z")
            continue
        found.append((name, frozenset(x.upper() for x in letters)))
    return tuple(found)
