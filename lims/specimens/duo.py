"""The GA4GH Data Use Ontology terms consent statements map to, and how a purpose matches them.

Ids and labels are those of DUO release 2021-02-23 (EBISPOT/DUO duo.csv and duo.owl, versionIRI
http://purl.obolibrary.org/obo/duo/releases/2021-02-23/duo.owl; Dyke et al., PLoS Genet
2016;12(3):e1005772 for the consent codes). Key on the CURIE, never on the class IRI: the OWL
spells NPOA's IRI with eight digits. Matching follows the DUO README ("queries are made at the
most specific level") and the Broad DUOS matcher V4 (DataBiosphere/consent-ontology,
docs/Algorithms.md): GRU covers HMB covers DS(disease); POA is not under HMB (HMB's definition
excludes ancestry research) but GRU's comment includes it. The DUOS matcher abstains on GS, MOR,
GSO, PUB, COL and IRB and sends them to a person; so do we.

A pure module: no Session, no Flask.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class DuoTerm(StrEnum):
    """DUO permission and modifier terms, by CURIE (release 2021-02-23)."""

    # permissions (subclasses of DUO:0000001 "data use permission")
    GRU = "DUO:0000042"
    HMB = "DUO:0000006"
    DS = "DUO:0000007"
    POA = "DUO:0000011"
    # modifiers (subclasses of DUO:0000017 "data use modifier")
    IRB = "DUO:0000021"
    COL = "DUO:0000020"
    PUB = "DUO:0000019"
    MOR = "DUO:0000024"
    TS = "DUO:0000025"
    US = "DUO:0000026"
    PS = "DUO:0000027"
    IS = "DUO:0000028"
    RTN = "DUO:0000029"
    GS = "DUO:0000022"  # geographical restriction; NOT genetics (that is GSO)
    GSO = "DUO:0000016"
    NMDS = "DUO:0000015"
    RS = "DUO:0000012"
    CC = "DUO:0000043"
    NPOA = "DUO:0000044"
    NPUNCU = "DUO:0000018"
    NPU = "DUO:0000045"
    NCU = "DUO:0000046"

    @property
    def label(self) -> str:
        return LABELS[self]

    @property
    def is_permission(self) -> bool:
        return self in PERMISSIONS


# Exact labels from duo.csv (2021-02-23).
LABELS: dict[DuoTerm, str] = {
    DuoTerm.GRU: "general research use",
    DuoTerm.HMB: "health or medical or biomedical research",
    DuoTerm.DS: "disease specific research",
    DuoTerm.POA: "population origins or ancestry research only",
    DuoTerm.IRB: "ethics approval required",
    DuoTerm.COL: "collaboration required",
    DuoTerm.PUB: "publication required",
    DuoTerm.MOR: "publication moratorium",
    DuoTerm.TS: "time limit on use",
    DuoTerm.US: "user specific restriction",
    DuoTerm.PS: "project specific restriction",
    DuoTerm.IS: "institution specific restriction",
    DuoTerm.RTN: "return to database or resource",
    DuoTerm.GS: "geographical restriction",
    DuoTerm.GSO: "genetic studies only",
    DuoTerm.NMDS: "no general methods research",
    DuoTerm.RS: "research specific restrictions",
    DuoTerm.CC: "clinical care use",
    DuoTerm.NPOA: "population origins or ancestry research prohibited",
    DuoTerm.NPUNCU: "not for profit, non commercial use only",
    DuoTerm.NPU: "not for profit organisation use only",
    DuoTerm.NCU: "non-commercial use only",
}
PERMISSIONS = frozenset({DuoTerm.GRU, DuoTerm.HMB, DuoTerm.DS, DuoTerm.POA})

# MONDO:0003441 "dystonic disorder", checked against the MONDO release 2026-08-04
# (monarch-initiative/mondo, src/ontology/mappings/mondo_exactmatch_*.sssom.tsv, mapping_set_version
# http://purl.obolibrary.org/obo/mondo/releases/2026-08-04/): a live class, curated as an exact
# match of DOID:543 "dystonia", MeSH D020821, UMLS C0013421 and NCIT C34563 "Dystonia"; the
# obsolete MONDO:0019049 is replaced by it (reports/obsoletes.tsv).
DYSTONIA_MONDO = "MONDO:0003441"

# Which granted permissions satisfy a purpose: a purpose is met by its own term or by a broader
# one (DUOS V4: HMB is approved on GRU or HMB; POA on GRU or POA; DS-X on GRU, HMB or DS-X).
COVERED_BY: dict[DuoTerm, frozenset[DuoTerm]] = {
    DuoTerm.GRU: frozenset({DuoTerm.GRU}),
    DuoTerm.HMB: frozenset({DuoTerm.GRU, DuoTerm.HMB}),
    DuoTerm.DS: frozenset({DuoTerm.GRU, DuoTerm.HMB, DuoTerm.DS}),
    DuoTerm.POA: frozenset({DuoTerm.GRU, DuoTerm.POA}),
}

# A consent restriction code can decide: the purpose must declare the use it allows.
# NCU is met by a purpose declared non-commercial; NPU by a not-for-profit user; NPUNCU by both
# (DUO README: a commercial purpose sees only datasets where NPU and NCU are both false).
DECIDABLE: dict[DuoTerm, tuple[frozenset[DuoTerm], ...]] = {
    DuoTerm.NCU: (frozenset({DuoTerm.NCU}), frozenset({DuoTerm.NPUNCU})),
    DuoTerm.NPU: (frozenset({DuoTerm.NPU}), frozenset({DuoTerm.NPUNCU})),
    DuoTerm.NPUNCU: (frozenset({DuoTerm.NPUNCU}), frozenset({DuoTerm.NPU, DuoTerm.NCU})),
}


@dataclass(frozen=True)
class Grant:
    """What one consent (a document and its answers) grants, as DUO terms."""

    permissions: frozenset[DuoTerm]
    diseases: frozenset[str]  # the DS diseases granted (MONDO ids)
    restrictions: frozenset[DuoTerm]  # modifiers that apply to every use
    refused_uses: frozenset[DuoTerm] = frozenset()  # e.g. GSO when genetic research was refused


@dataclass
class Match:
    """The ontology's answer before withdrawal and dates: reasons why not, and what is left to
    a person (empty lists and no reasons: permitted)."""

    reasons: list[str] = field(default_factory=list)
    for_reviewer: list[DuoTerm] = field(default_factory=list)


def match(
    grant: Grant, *, purpose: DuoTerm, modifiers: frozenset[DuoTerm], disease: str | None
) -> Match:
    """Whether a grant permits a purpose carrying these modifiers (DUOS V4 rules, see above)."""
    result = Match()
    if not purpose.is_permission:
        result.reasons.append(f"{purpose.name} is a modifier, not a research purpose")
        return result
    granted = grant.permissions & COVERED_BY[purpose]
    if purpose is DuoTerm.DS and granted == {DuoTerm.DS} and disease not in grant.diseases:
        granted = frozenset()
    if not granted:
        result.reasons.append(
            f"{purpose.name} ({purpose.label}) is not covered by the consent, which grants "
            + (", ".join(sorted(t.name for t in grant.permissions)) or "no research use")
        )
    if purpose is DuoTerm.POA and DuoTerm.NPOA in grant.restrictions:
        result.reasons.append("NPOA: population origins or ancestry research is prohibited")
    for term in sorted(grant.refused_uses & modifiers):
        result.reasons.append(f"the participant declined {term.name} ({term.label})")
    for term in sorted(grant.restrictions - {DuoTerm.NPOA}):
        if term in DECIDABLE:
            if not any(need <= modifiers for need in DECIDABLE[term]):
                declared = " or ".join("+".join(sorted(t.name for t in n)) for n in DECIDABLE[term])
                result.reasons.append(
                    f"the consent carries {term.name} ({term.label}); "
                    f"the purpose does not declare {declared}"
                )
        else:
            result.for_reviewer.append(term)
    return result
