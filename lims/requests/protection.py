"""Feasibility counts an investigator may see without learning whether one person matched.

A count is shown in one of two forms: "fewer than k", or a number perturbed by seeded noise and
rounded to a multiple of 5. The method, its parameters and its threat model are in
docs/user/feasibility-counts.md; the anchors are i2b2 and SHRINE (docs: ../shared/domain/
privacy.md, Addendum section 3). In short:

1. A true count below k (default 5) is always "fewer than k", whatever the noise.
2. Otherwise add integer noise from a discrete Gaussian (sigma 3) truncated to +-7, drawn
   deterministically from a seed: the same criteria give the same answer on every run, so
   repeating a query gives nothing to average.
3. A noisy count below k + margin (default 9) is "fewer than k" too. Without this band the step
   from "always hidden" (k - 1) to "always shown" (k) would tell an attacker whether the k-th
   person matched; with it, every pair of true counts n, n + 1 is hard to tell apart.
4. Round what is left to the nearest 5 (SHRINE's bin): the error is at most 7 + 2 = 9.

`answer_distribution` gives the exact distribution of answers for a true count, so the stated
bounds are computed, not estimated (tests/requests/test_protection.py).

Pure functions: no Flask, no database, nothing of lims. The service builds the seed from the
criteria and a server secret and calls `protect`; staff see `exact`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import unicodedata
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Defaults, argued in docs/user/feasibility-counts.md ("The parameters").
K = 5  # privacy.md rule 12: configurable, default 5 (OHDSI minCellCount)
SIGMA = 3.0  # between i2b2 (1.323) and SHRINE (6.5): per-pair advantage <= 6.7 points
CLAMP = 7  # noise never exceeds +-7, so with rounding the error is <= 9
BASE = 5  # SHRINE's binSize
MARGIN = 4  # the hiding band k .. k + margin - 1 of noisy counts (see step 3 above)
LOCKOUT_LIMIT = 7  # i2b2's lockout.setfinderquery.count

_SEED_DOMAIN = b"lims.requests.protection/noise/v1\x00"


@dataclass(frozen=True)
class ProtectedCount:
    """What a reader sees: `shown` is the text, `value` the number behind it (None if hidden)."""

    shown: str
    value: int | None
    exact: bool


def exact(true_count: int) -> ProtectedCount:
    """The count as staff see it."""
    _check_count(true_count)
    return ProtectedCount(shown=str(true_count), value=true_count, exact=True)


def protect(
    true_count: int,
    *,
    seed_material: bytes,
    k: int = K,
    sigma: float = SIGMA,
    clamp: int = CLAMP,
    base: int = BASE,
    margin: int = MARGIN,
) -> ProtectedCount:
    """The count as an investigator sees it: hidden below k, else noisy and rounded."""
    _check_count(true_count)
    hidden = ProtectedCount(shown=f"fewer than {k}", value=None, exact=False)
    if true_count < k:
        return hidden
    table = _noise_table(sigma, clamp)
    value = _shown_value(true_count + _draw(seed_material, table), k=k, base=base, margin=margin)
    if value is None:
        return hidden
    return ProtectedCount(shown=str(value), value=value, exact=False)


def answer_distribution(
    true_count: int,
    *,
    k: int = K,
    sigma: float = SIGMA,
    clamp: int = CLAMP,
    base: int = BASE,
    margin: int = MARGIN,
) -> dict[int | None, float]:
    """Every value `protect` can show for this true count, with its probability (None: hidden).

    Over seeds drawn uniformly; this is what an attacker who knew the parameters would compute.
    """
    _check_count(true_count)
    if true_count < k:
        return {None: 1.0}
    table = _noise_table(sigma, clamp)
    found: dict[int | None, float] = defaultdict(float)
    for noise, probability in zip(table.values, table.probabilities, strict=True):
        found[_shown_value(true_count + noise, k=k, base=base, margin=margin)] += probability
    return dict(found)


def canonical_criteria(criteria: Mapping[str, Any]) -> bytes:
    """One byte string per criteria document: key order, number spelling and layout ignored.

    Integral floats become integers (5.0 is 5), strings and keys are Unicode NFC, and the JSON is
    written with sorted keys and no spaces. List order is kept: the caller sorts lists that are
    sets (DUO terms, body regions) before, as the criteria schema does when it loads them.
    """
    return json.dumps(
        _canonical(dict(criteria)), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def criteria_hash(criteria: Mapping[str, Any]) -> str:
    """A stable name for the criteria, for the query history and the audit trail (SHA-256 hex)."""
    return hashlib.sha256(canonical_criteria(criteria)).hexdigest()


def criteria_seed(secret: bytes, criteria: Mapping[str, Any], *, kind: str) -> bytes:
    """Seed material for one count of one query: HMAC(secret, kind and canonical criteria).

    `kind` names the count ("subjects", "visits", "aliquots", "subjects/G24.3"), so the counts of
    one query get independent noise. The secret is the server's; without it the noise cannot be
    predicted and subtracted.
    """
    message = kind.encode() + b"\x00" + canonical_criteria(criteria)
    return hmac.new(secret, b"criteria\x00" + message, hashlib.sha256).digest()


def members_seed(secret: bytes, members: Iterable[int | str], *, kind: str) -> bytes:
    """Seed material keyed on the matching records themselves (the cell-key method).

    The XOR of HMAC(secret, member) over the distinct members: any two criteria that match the
    same records get the same noise, however they are written, so rewriting a query gives
    nothing to average; adding one member changes the seed unpredictably. Costs one HMAC per
    matching record.
    """
    key = 0
    for member in set(members):
        tag = hmac.new(secret, f"member\x00{kind}\x00{member}".encode(), hashlib.sha256)
        key ^= int.from_bytes(tag.digest(), "big")
    return key.to_bytes(32, "big") + kind.encode()


@dataclass(frozen=True)
class Lockout:
    """Why an investigator is locked out; the message must not name the count."""

    distinct_criteria: int
    limit: int

    @property
    def detail(self) -> str:
        return (
            f"{self.distinct_criteria} different queries gave the same underlying count; "
            f"the limit is {self.limit}. An administrator must unlock the account."
        )


def repeated_count_lockout(
    history: Iterable[tuple[str, int]], *, k: int = K, limit: int = LOCKOUT_LIMIT
) -> Lockout | None:
    """Whether an investigator's queries (criteria hash, true count) call for a lockout.

    Like i2b2's lockout, but counting *different* criteria with one true count: re-running the
    same criteria returns the same answer and is harmless; rewriting them to draw fresh noise for
    the same count is the averaging attack. Counts below k are always hidden, so they are not
    counted. The service passes the window it keeps (i2b2: 30 days) including the query about to
    be answered, and refuses that query when this returns a Lockout.
    """
    if limit < 1:
        raise ValueError(f"limit must be at least 1, not {limit}")
    seen: dict[int, set[str]] = defaultdict(set)
    for digest, count in history:
        if count >= k:
            seen[count].add(digest)
    worst = max((len(digests) for digests in seen.values()), default=0)
    return Lockout(distinct_criteria=worst, limit=limit) if worst > limit else None


@dataclass(frozen=True)
class _NoiseTable:
    values: tuple[int, ...]
    probabilities: tuple[float, ...]
    cumulative: tuple[float, ...]  # upper edges in [0, 1], for the inverse-CDF draw


@lru_cache(maxsize=16)
def _noise_table(sigma: float, clamp: int) -> _NoiseTable:
    """The discrete Gaussian on -clamp..clamp: P(x) proportional to exp(-x^2 / 2 sigma^2).

    Truncated rather than clamped: clamping would pile the tail onto +-clamp, and those two
    atoms would show the shift between n and n + 1 more clearly than the rest of the curve.
    """
    if not sigma > 0 or clamp < 0:
        raise ValueError(f"need sigma > 0 and clamp >= 0, not sigma={sigma}, clamp={clamp}")
    values = tuple(range(-clamp, clamp + 1))
    weights = [math.exp(-(x * x) / (2 * sigma * sigma)) for x in values]
    total = math.fsum(weights)
    probabilities = tuple(w / total for w in weights)
    cumulative, running = [], 0.0
    for p in probabilities:
        running += p
        cumulative.append(running)
    cumulative[-1] = 1.0
    return _NoiseTable(values, probabilities, tuple(cumulative))


def _draw(seed_material: bytes, table: _NoiseTable) -> int:
    """The noise for this seed: a uniform number from SHA-256, through the inverse CDF."""
    digest = hashlib.sha256(_SEED_DOMAIN + seed_material).digest()
    uniform = int.from_bytes(digest[:8], "big") / 2**64  # in [0, 1)
    return table.values[bisect_right(table.cumulative, uniform)]


def _shown_value(noisy: int, *, k: int, base: int, margin: int) -> int | None:
    """Steps 3 and 4: hide a noisy count below k + margin, round the rest to `base`."""
    if k < 1 or base < 1 or margin < 0:
        raise ValueError(f"need k >= 1, base >= 1, margin >= 0; got {k}, {base}, {margin}")
    if noisy < k + margin:
        return None
    value = base * ((noisy + base // 2) // base)  # nearest multiple; a tie rounds up
    return value if value >= k else None


def _check_count(true_count: int) -> None:
    if isinstance(true_count, bool) or not isinstance(true_count, int) or true_count < 0:
        raise ValueError(f"a count is a whole number of at least 0, not {true_count!r}")


def _canonical(value: Any) -> Any:
    if isinstance(value, bool) or value is None:
        return value
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"criteria hold a number JSON cannot write: {value}")
        return int(value) if value.is_integer() else value
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, Mapping):
        keys = [_canonical(str(key)) for key in value]
        if len(set(keys)) != len(keys):
            raise ValueError("criteria hold two keys that differ only in Unicode normalisation")
        return {_canonical(str(key)): _canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(item) for item in value]
    raise ValueError(f"criteria hold a {type(value).__name__}, which JSON cannot write")
