"""A rating scale as data, and the one scoring engine every scale shares.

A scale's score is a sum of terms; a term is a weight times the product of one or more items (one
item for most scales; provoking factor × severity factor for a BFMDRS movement region). Subscales
sum their own terms; the total sums them all. Nothing here knows any particular scale: a new
scale is a new file under definitions/ (docs/dev/adding-a-rating-scale.md).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from functools import cached_property
from operator import itemgetter
from typing import Literal

MissingKind = Literal["complete", "mean"]


@dataclass(frozen=True)
class ItemProblem:
    """Why one answer cannot be scored: out of range, unknown, not a number or missing."""

    item_id: str
    value: object
    reason: str

    def __str__(self) -> str:
        return f"{self.item_id}: {self.reason}"


class ScoringError(ValueError):
    """Every problem found in one set of answers; nothing was scored."""

    def __init__(self, scale_id: str, problems: list[ItemProblem]) -> None:
        listed = "; ".join(str(p) for p in problems)
        count = f"{len(problems)} problem{'s' if len(problems) != 1 else ''}"
        super().__init__(f"{scale_id}: {count}: {listed}")
        self.scale_id = scale_id
        self.problems = problems


@dataclass(frozen=True)
class Item:
    """One scored answer. `values` lists every allowed value, ascending (half points included)."""

    id: str
    label: str
    values: tuple[Decimal, ...]
    subscale: str | None = None
    # Set when the definition gave a range rather than a list; the list is derived from them.
    minimum: Decimal | None = None
    maximum: Decimal | None = None
    step: Decimal | None = None
    anchors: tuple[tuple[Decimal, str], ...] = ()  # (value, short anchor), never licensed text
    unit: str = ""
    notes: str = ""
    source: str = ""

    @cached_property
    def allowed(self) -> frozenset[Decimal]:
        """The allowed values as a set: an import checks 200,000 answers against it."""
        return frozenset(self.values)

    def problem(self, value: object) -> str | None:
        """Why `value` is not an allowed answer, or None when it is."""
        # The common case first: a whole number or finite decimal that is allowed (bool is an
        # int, but never an answer; a NaN is not hashable as a set member can need).
        kind = type(value)
        if (kind is int or (kind is Decimal and value.is_finite())) and value in self.allowed:  # type: ignore[attr-defined]
            return None
        if isinstance(value, bool) or not isinstance(value, int | Decimal):
            return f"{value!r} is not a number"
        number = Decimal(value)
        if not number.is_finite():
            return f"{value} is not a number"
        if number < self.values[0]:
            return f"{number} is below the minimum {self.values[0]}"
        if number > self.values[-1]:
            return f"{number} is above the maximum {self.values[-1]}"
        if number not in self.values:
            return f"{number} is not one of {', '.join(str(v) for v in self.values)}"
        return None


@dataclass(frozen=True)
class Term:
    """weight × the product of `items`; counts toward `subscale` (when set) and the total."""

    items: tuple[str, ...]
    weight: Decimal = Decimal(1)
    subscale: str | None = None
    label: str = ""  # "eyes" for a BFMDRS region; empty for a single item


@dataclass(frozen=True)
class MissingRule:
    """What the scale does with unanswered items, as its published source says (or our default).

    "complete": a subscale (or the total) is scored only when every one of its items is answered.
    "mean": the mean of the answered items, when at least `min_answered` are answered.
    """

    kind: MissingKind = "complete"
    min_answered: int = 0
    statement: str = "no published rule: a part is scored only when all its items are answered"


@dataclass(frozen=True)
class Score:
    total: Decimal | None
    subscales: dict[str, Decimal | None] = field(default_factory=dict)
    flags: tuple[str, ...] = ()


# A part's items, and its terms as (items, weight; None for a weight of 1).
_Compiled = tuple[frozenset[str], list[tuple[tuple[str, ...], Decimal | None]]]


@dataclass(frozen=True)
class Scale:
    id: str
    name: str
    version: str
    source: str
    licensed_text: bool
    items: tuple[Item, ...]
    subscales: tuple[str, ...]
    verified: tuple[str, ...]  # what is NOT verified, one note each; empty when all is confirmed
    settled_by: str = ""  # the source that would confirm what `verified` lists as unconfirmed
    terms: tuple[Term, ...] = ()
    missing: MissingRule = MissingRule()
    has_total: bool = True
    subscale_names: tuple[tuple[str, str], ...] = ()  # (id, name)
    notes: str = ""

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(f"{self.id} has no item {item_id!r}")

    @property
    def is_scorable(self) -> bool:
        """False for a scale whose items are not yet confirmed: only imported totals are kept."""
        return bool(self.items)

    def maximum(self, subscale: str | None = None) -> Decimal | None:
        """The highest score of a subscale, or of the total when `subscale` is None."""
        if not self.is_scorable or (subscale is None and not self.has_total):
            return None
        highs = [
            t.weight * _product(self.item(i).values[-1] for i in t.items)
            for t in self._terms_of(subscale)
        ]
        if self.missing.kind == "mean":
            return tidy(max(highs))
        return tidy(sum(highs, Decimal(0)))

    def score(
        self,
        answers: Mapping[str, int | Decimal | None],
        imported_total: Decimal | None = None,
        *,
        partial: bool = False,
    ) -> Score:
        """Subscale and total scores; ScoringError naming every bad, unknown or missing item.

        An answer of None, or no answer, is missing. With partial=True a missing item the
        scale's rule cannot absorb leaves its subscale and the total None, with a flag, instead
        of raising; out-of-range and unknown items raise either way.
        """
        problems, values = self._check(answers)
        flags: list[str] = []
        if not self.is_scorable:
            flags.append(f"not scored: the items of {self.id} {self.version} are not confirmed")
        subscales: dict[str, Decimal | None] = {}
        missing: dict[str, list[str]] = {}
        total = None
        parts: list[str | None] = [*self.subscales]
        if self.has_total and self.is_scorable:
            parts.append(None)
        for part in parts:
            result, absent = self._score_part(part, values, flags)
            if part is None:
                total = result
            else:
                subscales[part] = result
            if result is None and absent:
                missing[part or "total"] = absent
        # An out-of-range item is already named; it is not also "missing".
        named = {p.item_id for p in problems}
        missing = {k: [i for i in v if i not in named] for k, v in missing.items()}
        problems += self._missing_problems({k: v for k, v in missing.items() if v}, partial, flags)
        if problems:
            raise ScoringError(self.id, problems)
        flags += self._compare_import(total, imported_total)
        return Score(total=total, subscales=subscales, flags=tuple(flags))

    @cached_property
    def _parts(self) -> dict[str | None, list[Term]]:
        """The terms of each subscale, and of the total (None), worked out once per scale."""
        parts: dict[str | None, list[Term]] = {None: list(self.terms)}
        for name in self.subscales:
            parts[name] = [t for t in self.terms if t.subscale == name]
        return parts

    @cached_property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(item.id for item in self.items)

    @cached_property
    def _known(self) -> dict[str, Item]:
        return {item.id: item for item in self.items}

    def _terms_of(self, part: str | None) -> list[Term]:
        if part in self._parts:
            return self._parts[part]
        return [t for t in self.terms if part is None or t.subscale == part]

    @cached_property
    def _compiled(self) -> dict[str | None, _Compiled]:
        """Each part's items and terms (None: the total), worked out once per scale: an import
        scores 80,000 administrations."""
        return {part: self._compile(self._terms_of(part)) for part in (None, *self.subscales)}

    @cached_property
    def _whole_groups(
        self,
    ) -> list[tuple[Callable[[Mapping[str, object]], tuple[object, ...]], frozenset[int]]]:
        """The items grouped by the whole numbers they allow: (a getter of their answers, those
        numbers). Empty when an item allows a half point: then items are checked one by one."""
        groups: dict[frozenset[int], list[str]] = {}
        for item in self.items:
            if any(v != v.to_integral_value() for v in item.values):
                return []
            groups.setdefault(frozenset(int(v) for v in item.values), []).append(item.id)
        return [(_getter(ids), allowed) for allowed, ids in groups.items()]

    @staticmethod
    def _compile(terms: list[Term]) -> _Compiled:
        """A part's items, and its terms as (items, weight; None for a weight of 1)."""
        items = frozenset(i for t in terms for i in t.items)
        return items, [(t.items, None if t.weight == 1 else t.weight) for t in terms]

    def _check(
        self, answers: Mapping[str, object]
    ) -> tuple[list[ItemProblem], dict[str, int | Decimal]]:
        known = self._known
        groups = self._whole_groups
        if groups and len(answers) == len(known) and answers.keys() <= known.keys():
            # Every item answered: check whole-number answers a group of items at a time, in C.
            for group, allowed in groups:
                given = group(answers)
                if not (allowed.issuperset(given) and _INT.issuperset(map(type, given))):
                    break  # a Decimal, a bool or a value out of range: item by item below
            else:
                return [], dict(answers)  # type: ignore[arg-type]
        problems = []
        if not answers.keys() <= known.keys():
            problems = [
                ItemProblem(key, value, f"not an item of {self.id} {self.version}")
                for key, value in answers.items()
                if key not in known
            ]
        # Whole numbers stay ints: the sums are exact either way, and int arithmetic is the
        # cheaper half of scoring an import (cProfile, 2026-12-02).
        values: dict[str, int | Decimal] = {}
        for item in self.items:
            if (value := answers.get(item.id)) is None:
                continue
            kind = type(value)
            if (kind is int or (kind is Decimal and value.is_finite())) and value in item.allowed:  # type: ignore[attr-defined]
                values[item.id] = value  # type: ignore[assignment]
            elif (reason := item.problem(value)) is not None:
                problems.append(ItemProblem(item.id, value, reason))
            elif isinstance(value, int | Decimal):  # item.problem() refused anything else
                values[item.id] = Decimal(value)
        return problems, values

    def _score_part(
        self, part: str | None, values: Mapping[str, int | Decimal], flags: list[str]
    ) -> tuple[Decimal | None, list[str]]:
        """(score, items missing) of one subscale, or of the total when `part` is None."""
        terms = self._terms_of(part)
        items, compiled = self._compiled.get(part) or self._compile(terms)
        absent = [] if values.keys() >= items else [
            i for t in terms for i in t.items if i not in values
        ]  # fmt: skip
        if self.missing.kind == "mean":
            answered = [
                t.weight * _product(values[i] for i in t.items)
                for t in terms
                if all(i in values for i in t.items)
            ]
            if len(answered) < max(self.missing.min_answered, 1):
                return None, absent
            if absent:
                flags.append(
                    f"{part or 'total'}: mean of {len(answered)} answered items, "
                    f"{len(absent)} missing ({', '.join(absent)})"
                )
            mean = sum(answered, Decimal(0)) / len(answered)
            return tidy(mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)), []
        if absent:
            return None, absent
        total: int | Decimal = 0
        for term_items, weight in compiled:  # a loop, not sum(generator): 200,000 terms
            term = values[term_items[0]]
            for i in term_items[1:]:
                term *= values[i]
            total += term if weight is None else weight * term
        if type(total) is int:  # Decimal(12) is already what tidy() would give
            return Decimal(total), []
        return tidy(Decimal(total)), []

    def _missing_problems(
        self, missing: Mapping[str, list[str]], partial: bool, flags: list[str]
    ) -> list[ItemProblem]:
        rule = self.missing.statement
        if partial:
            flags += [
                f"{part} not scored: {len(ids)} missing ({', '.join(ids)}); {rule}"
                for part, ids in missing.items()
            ]
            return []
        ids = dict.fromkeys(i for absent in missing.values() for i in absent)
        return [ItemProblem(i, None, f"missing; {rule}") for i in ids]

    def _compare_import(self, total: Decimal | None, imported: Decimal | None) -> list[str]:
        if imported is None:
            return []
        if isinstance(imported, bool) or not isinstance(imported, int | Decimal):
            return [f"imported total {imported!r} is not a number: ignored"]
        if not Decimal(imported).is_finite():
            return [f"imported total {imported} is not a number: ignored"]
        flags = []
        if (high := self.maximum()) is not None and imported > high:
            flags.append(
                f"imported total {imported} is above the maximum {high} of "
                f"{self.id} {self.version}: another version of the scale?"
            )
        if total is None:
            flags.append(f"imported total {imported} kept as given: not recomputed")
        elif Decimal(imported) != total:
            flags.append(f"imported total {imported} differs from computed {total}")
        return flags


_INT = frozenset({int})  # bool is an int too, but never an answer: its type is not int


def _getter(keys: list[str]) -> Callable[[Mapping[str, object]], tuple[object, ...]]:
    """The values of these keys, as a tuple, in C (KeyError when one is absent)."""
    if len(keys) == 1:
        key = keys[0]
        return lambda mapping: (mapping[key],)
    return itemgetter(*keys)


def _product(numbers: Iterable[int | Decimal]) -> Decimal:
    result = Decimal(1)
    for number in numbers:
        result *= number
    return result


def tidy(number: Decimal) -> Decimal:
    """29.0 -> 29 and 8.50 -> 8.5, without the exponent form normalize() gives 120 (1.2E+2)."""
    if number == number.to_integral_value():
        return number.quantize(Decimal(1))
    return number.normalize()
