"""Plausibility rules: values a bench can type but a biobank must refuse (issue 15).

Each rule is a pure function returning the problems it finds as (field, message) pairs, so the
form, the API and the CSV import share one wording; docs/user/plausibility-rules.md lists them.
The clock is an argument (`now=`), never read here, so tests pass fixed times.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from lims.db import utcnow
from lims.errors import Conflict, InvalidInput
from lims.specimens.models import Specimen, SpecimenType

Problem = tuple[str, str]  # (field, message)

# The times a tube carries, in the order they happen, with the words the forms use.
TIME_LABELS = {
    "collected_at": "Collected at",
    "received_at": "Received at",
    "processing_started_at": "Processing started at",
    "processed_at": "Processed at",
}


@dataclass(frozen=True)
class Limits:
    """The configurable bounds (config.py: LIMS_CLOCK_SKEW_MINUTES,
    LIMS_COLLECTION_VISIT_TOLERANCE_DAYS)."""

    # Bench PCs and phones drift; a few minutes ahead of the server is not "the future".
    clock_skew: timedelta = timedelta(minutes=5)
    # A draw late in the evening may be logged against the next day's visit, not more.
    visit_tolerance_days: int = 1

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> Limits:
        return cls(
            clock_skew=timedelta(minutes=config.get("CLOCK_SKEW_MINUTES", 5)),
            visit_tolerance_days=config.get("COLLECTION_VISIT_TOLERANCE_DAYS", 1),
        )


DEFAULT_LIMITS = Limits()


def checks_from(config: Mapping[str, Any]) -> dict[str, Any]:
    """`now=` and `limits=` for a service, from the app's settings (tests set CLOCK)."""
    clock = config.get("CLOCK", utcnow)
    return {"now": clock(), "limits": Limits.from_config(config)}


def time_problems(
    times: Mapping[str, datetime | None],
    *,
    visit_on: date | None,
    now: datetime,
    limits: Limits = DEFAULT_LIMITS,
) -> list[Problem]:
    """A tube's times in the future, and a collection too far from its visit's date."""
    problems: list[Problem] = []
    latest = now + limits.clock_skew
    for name, label in TIME_LABELS.items():
        value = times.get(name)
        if value is not None and value > latest:
            problems.append(
                (
                    name,
                    f"{label} ({value:%Y-%m-%d %H:%M} UTC) is in the future; "
                    f"it is now {now:%Y-%m-%d %H:%M} UTC",
                )
            )
    collected = times.get("collected_at")
    if collected is not None and visit_on is not None:
        days = abs((collected.date() - visit_on).days)
        if days > limits.visit_tolerance_days:
            problems.append(
                (
                    "collected_at",
                    f"Collected at ({collected:%Y-%m-%d}) is {days} days from the visit's date "
                    f"({visit_on}); at most {limits.visit_tolerance_days} day(s) apart is allowed",
                )
            )
    return problems


def check_times(
    times: Mapping[str, datetime | None],
    *,
    visit_on: date | None,
    now: datetime,
    limits: Limits = DEFAULT_LIMITS,
) -> None:
    """Raise the problems time_problems finds, all at once."""
    if problems := time_problems(times, visit_on=visit_on, now=now, limits=limits):
        raise InvalidInput(
            "; ".join(m for _, m in problems),
            errors=[{"field": f, "message": m} for f, m in problems],
        )


def study_code_site_problem(study_code: str, site_code: str) -> str | None:
    """A study code begins with its site's code and a dash (NA1-0042 belongs to site NA1)."""
    if study_code.startswith(f"{site_code}-"):
        return None
    prefix = study_code.split("-", 1)[0]
    return (
        f"Study code {study_code} does not begin with its site's code {site_code}- "
        f"(it begins with {prefix}); codes of site {site_code} look like {site_code}-0042"
    )


def split_volume_problem(
    *, tube: str, volume_ml: float | None, already_ul: int, count: int, volume_ul: int
) -> str | None:
    """Aliquots may not add up to more than the primary tube holds (volume unknown: no check)."""
    if volume_ml is None:
        return None
    holds = round(volume_ml * 1000)
    remaining = max(holds - already_ul, 0)
    needed = count * volume_ul
    if needed <= remaining:
        return None
    return (
        f"Tube {tube} holds {holds} µL and {already_ul} µL is already aliquoted: only "
        f"{remaining} µL remain, and {count} × {volume_ul} µL needs {needed} µL"
    )


def check_split(
    specimen: Specimen, *, specimen_type: SpecimenType, count: int, volume: int
) -> None:
    """Refuse a split of a primary tube that would take more than it still holds."""
    if specimen_type == SpecimenType.DNA:
        return
    problem = split_volume_problem(
        tube=specimen.barcode,
        volume_ml=specimen.volume_ml,
        already_ul=specimen.aliquoted_ul,
        count=count,
        volume_ul=volume,
    )
    if problem:
        raise Conflict(problem, field="volume_ul")


def use_problem(*, barcode: str, remaining_ul: int, volume_ul: int) -> str | None:
    """Use may not take more than the tube holds."""
    if volume_ul <= remaining_ul:
        return None
    return f"{barcode}: only {remaining_ul} µL remain; {volume_ul} µL cannot be used"
