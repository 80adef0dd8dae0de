"""The differencing attack, mounted through the feasibility service on a real database.

The attacker (an investigator) knows a target's age at collection and that the cohort is the
only one with that age, and asks pairs of questions that differ by exactly that person: ages
lo..hi, then lo..hi+1. If the second count is higher, the target is in the biobank. Ages are
drawn so that some are missing: half the pairs add a person, half add nobody. The bound stated
in docs/user/feasibility-counts.md: such an attacker guesses right at most 60 % of the time; and
every count of 20 or more is shown within 9 of the truth.
"""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta

from sqlalchemy.orm import Session

from lims.actors import Actor
from lims.requests.services.feasibility import FeasibilitySettings, check_feasibility
from tests.requests.criteria_factories import a_box, stored, subject, visit
from tests.specimens.factories import make_consent_form

SETTINGS = FeasibilitySettings(
    secret=b"attack-test-secret-0123456789abcdef",
    rate_limit=10**6,  # the attacker is let through: the bound must hold without the limits
    lockout_limit=10**6,
)
DRAWN = date(2024, 5, 2)
AGES = range(40, 100)  # at collection, in 2024
PAIRS = 120  # 240 service calls; the exact bound over all counts is test_protection's


def test_an_attacker_differencing_one_known_person_is_right_at_most_60_percent(
    session: Session, investigator: Actor
) -> None:
    rng = random.Random(19)
    present = sorted(rng.sample(list(AGES), 36))
    form, box = make_consent_form(session), a_box(session)
    for age in present:
        who = subject(session, form, birth_year=DRAWN.year - age)
        stored(session, visit(session, who, on=DRAWN), box)
    now = datetime(2026, 6, 1, tzinfo=UTC)

    def shown(lo: int, hi: int) -> tuple[int | None, int]:
        nonlocal now
        now += timedelta(seconds=1)
        criteria = {"purpose": {"term": "HMB"}, "age": {"min": lo, "max": hi}}
        answer = check_feasibility(
            session, investigator, criteria=criteria, settings=SETTINGS, now=now
        )
        true = sum(lo <= age <= hi for age in present)
        return answer.total.subjects.value, true

    # Balanced: half the pairs add a person (the target matched), half add an empty age, so
    # always guessing one way scores 50 %.
    absent = [age for age in AGES if age not in present and age > AGES[0]]
    targets = [rng.choice(present[1:]) if n % 2 else rng.choice(absent) for n in range(PAIRS)]
    right, errors = 0, []
    for target in targets:
        lo = rng.randrange(AGES[0], target)
        (before, n), (after, m) = shown(lo, target - 1), shown(lo, target)
        target_matched = m == n + 1
        guess = (after or 0) > (before or 0)  # hidden reads as 0
        right += guess == target_matched
        errors += [abs(v - t) for v, t in ((before, n), (after, m)) if t >= 20 and v is not None]
        assert not (n >= 20 and before is None), "a count of 20 or more is never hidden"

    assert right / PAIRS <= 0.60
    assert errors and max(errors) <= 9
