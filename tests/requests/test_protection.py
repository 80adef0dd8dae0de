"""Feasibility count protection (lims/requests/protection.py; docs/user/feasibility-counts.md).

The differencing attack is mounted for real, with seeds from real criteria documents, and the
stated bounds are also checked exactly over every true count from answer_distribution.
"""

from __future__ import annotations

import json
import random

import pytest

from lims.requests.protection import (
    ProtectedCount,
    answer_distribution,
    canonical_criteria,
    criteria_hash,
    criteria_seed,
    exact,
    members_seed,
    protect,
    repeated_count_lockout,
)

SECRET = b"feasibility-test-secret-0123456789"
CRITERIA = {
    "diagnosis": ["G24.3"],
    "specimen_type": "serum",
    "min_volume_ul": 250,
    "scores": {"twstrs2_severity": [10, 30]},
    "weeks_since_botulinum_toxin_min": 12,
}
ACCURACY_BOUND = 0.60  # the stated bound, docs/user/feasibility-counts.md
ERROR_BOUND = 10  # |shown - true| for true counts of 20 and above


def shown(true_count: int, criteria: dict, *, kind: str = "subjects", k: int = 5) -> int | None:
    seed = criteria_seed(SECRET, criteria, kind=kind)
    return protect(true_count, seed_material=seed, k=k).value


def best_accuracy(n: int, **params: int) -> float:
    """The optimal attacker's accuracy telling n from n + 1, from the exact distributions."""
    out, into = answer_distribution(n, **params), answer_distribution(n + 1, **params)
    total_variation = sum(abs(out.get(v, 0) - into.get(v, 0)) for v in out.keys() | into.keys())
    return 0.5 + total_variation / 4


def test_a_true_count_below_k_always_shows_fewer_than_k() -> None:
    for k in (5, 11):
        for n in range(k):
            for i in range(200):
                answer = protect(n, seed_material=criteria_seed(SECRET, {"i": i}, kind="s"), k=k)
                assert answer == ProtectedCount(shown=f"fewer than {k}", value=None, exact=False)


def test_a_shown_number_is_never_below_k_and_is_a_multiple_of_5() -> None:
    for k in (5, 11):
        for n in range(k, 60):
            values = {v for v in answer_distribution(n, k=k) if v is not None}
            assert all(v >= k and v % 5 == 0 for v in values), (k, n, values)


def test_the_same_criteria_give_the_same_answer_however_they_are_written() -> None:
    rewritten = json.loads(
        '{ "weeks_since_botulinum_toxin_min": 12.0, "scores": {"twstrs2_severity": [10.0, 30]},'
        '  "min_volume_ul": 250, "specimen_type": "serum", "diagnosis": ["G24.3"] }'
    )
    answers = {shown(137, CRITERIA)} | {shown(137, rewritten) for _ in range(50)}
    assert len(answers) == 1


def test_repeating_a_query_gives_nothing_to_average() -> None:
    seed = criteria_seed(SECRET, CRITERIA, kind="subjects")
    assert len({protect(400, seed_material=seed) for _ in range(100)}) == 1


def test_different_criteria_draw_different_noise() -> None:
    answers = [shown(500, {**CRITERIA, "site": f"site {i}"}) for i in range(300)]
    assert set(answers) == {495, 500, 505}  # 493..507, rounded to 5
    assert 0.4 < answers.count(500) / len(answers) < 0.8


def test_each_kind_of_count_in_one_query_draws_its_own_noise() -> None:
    kinds = [f"subjects/G24.{i}" for i in range(40)]
    assert len({shown(300, CRITERIA, kind=kind) for kind in kinds}) > 1


def test_the_secret_changes_the_noise() -> None:
    seeds = [criteria_seed(bytes([i]) * 32, CRITERIA, kind="subjects") for i in range(40)]
    assert len({protect(300, seed_material=seed).value for seed in seeds}) > 1


def test_the_answers_do_not_change_between_versions() -> None:
    """A changed draw would hand investigators a second, fresh answer to average with the first."""
    seed = criteria_seed(SECRET, CRITERIA, kind="subjects")
    assert criteria_hash(CRITERIA) == (
        "59d2f71469e81dd1d9abd7f091cacc85633ff1520ae367ef2180654c11eec30c"
    )
    assert [protect(n, seed_material=seed).shown for n in (4, 9, 12, 20, 137, 1000)] == [
        "fewer than 5",
        "fewer than 5",
        "fewer than 5",
        "15",
        "130",
        "995",
    ]


def test_counts_of_20_and_above_stay_within_the_stated_error() -> None:
    worst = 0
    for n in range(20, 2_000):
        distribution = answer_distribution(n)
        assert None not in distribution, n
        worst = max(worst, *(abs(v - n) for v in distribution if v is not None))
    assert worst <= ERROR_BOUND
    assert worst == 9  # noise of at most 7, then rounding to 5 moves at most 2 more


def test_counts_of_20_and_above_are_off_by_less_than_3_on_average() -> None:
    errors = [
        sum(p * abs(v - n) for v, p in answer_distribution(n).items() if v is not None)
        for n in range(20, 520)  # every remainder modulo 5, a hundred times
    ]
    assert 2.4 < sum(errors) / len(errors) < 3.0


def test_measured_errors_on_real_seeds_match_the_bound() -> None:
    rng = random.Random(20)
    errors = []
    for i in range(3_000):
        n = rng.randrange(20, 5_000)
        value = shown(n, {**CRITERIA, "query": i})
        assert value is not None
        errors.append(abs(value - n))
    assert max(errors) <= ERROR_BOUND and sum(errors) / len(errors) < 3.0


@pytest.mark.parametrize("k", [5, 11, 20])
def test_no_attacker_tells_n_from_n_plus_1_more_than_60_percent_of_the_time(k: int) -> None:
    """Exact, for every true count: the optimal attacker who knows n and the parameters."""
    accuracies = {n: best_accuracy(n, k=k) for n in range(0, 600)}
    assert max(accuracies.values()) <= ACCURACY_BOUND
    assert max(accuracies.values()) > 0.55  # the bound is close, not vacuous


def test_without_the_hiding_band_the_kth_person_would_be_revealed() -> None:
    """Why margin exists: with margin 0, telling k - 1 from k is far above the bound."""
    assert best_accuracy(4, margin=0) > 0.75
    assert best_accuracy(4) <= ACCURACY_BOUND


def differencing_attack(rounds: int, reveal: bool) -> tuple[float, float]:
    """Mount the attack: query A, then A plus one known subject, and guess whether they matched.

    Returns the accuracy of two attackers: one comparing the answers, and one who also knows the
    true count of A (the strongest: it bounds every attacker who has to estimate it).
    """
    rng = random.Random(19)
    comparer = oracle = 0
    for i in range(rounds):
        n = rng.choice([rng.randrange(0, 30), rng.randrange(0, 3_000)])  # the small end, often
        is_member = rng.random() < 0.5
        a = {**CRITERIA, "age_at_collection": [18 + i % 60, 90], "round": i}
        b = {**a, "or_subject": f"DYS-{i:06d}"}  # differs from A by exactly one known subject
        if reveal:
            seen_a, seen_b = exact(n).value, exact(n + is_member).value
        else:
            seen_a, seen_b = shown(n, a), shown(n + is_member, b)
        va, vb = seen_a if seen_a is not None else -1, seen_b if seen_b is not None else -1
        comparer += (vb > va if vb != va else rng.random() < 0.5) == is_member
        # The oracle picks the likelier of n and n + 1 for B's answer (exact counts: B == n + 1).
        out, into = answer_distribution(n), answer_distribution(n + 1)
        guess = seen_b == n + 1 if reveal else into.get(seen_b, 0.0) > out.get(seen_b, 0.0)
        oracle += guess == is_member
    return comparer / rounds, oracle / rounds


def test_the_differencing_attack_on_protected_counts_stays_under_the_bound() -> None:
    comparer, oracle = differencing_attack(4_000, reveal=False)
    assert comparer <= ACCURACY_BOUND
    assert oracle <= ACCURACY_BOUND


def test_the_same_attack_on_exact_counts_is_always_right() -> None:
    """The control: the attack works when nothing protects the counts."""
    assert differencing_attack(500, reveal=True)[1] == 1.0


def test_staff_see_the_exact_count() -> None:
    assert exact(3) == ProtectedCount(shown="3", value=3, exact=True)


@pytest.mark.parametrize("count", [-1, 2.5, True])
def test_a_count_that_is_not_a_whole_number_of_at_least_0_is_refused(count: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        protect(count, seed_material=b"x")  # type: ignore[arg-type]


def test_canonical_criteria_ignore_key_order_number_spelling_and_layout() -> None:
    one = json.loads('{"b": [1, 2.0, {"y": 1e2, "x": "é"}], "a": 5}')
    two = json.loads('{\n  "a": 5.0,\n  "b": [1.0, 2, {"x": "e\\u0301", "y": 100}]\n}')
    assert canonical_criteria(one) == canonical_criteria(two)
    assert canonical_criteria(one) == '{"a":5,"b":[1,2,{"x":"é","y":100}]}'.encode()


def test_canonical_criteria_keep_what_changes_the_meaning() -> None:
    base = canonical_criteria({"age": [40, 60]})
    assert canonical_criteria({"age": [60, 40]}) != base
    assert canonical_criteria({"age": [40, 60.5]}) != base
    assert canonical_criteria({"age": ["40", 60]}) != base
    assert canonical_criteria({"age": [40, 60], "sex": None}) != base


def test_criteria_json_cannot_write_are_refused() -> None:
    with pytest.raises(ValueError, match="JSON cannot write"):
        canonical_criteria({"age": float("nan")})
    with pytest.raises(ValueError, match="JSON cannot write"):
        canonical_criteria({"when": {1, 2}})


def test_a_members_seed_depends_on_the_set_of_members_only() -> None:
    seed = members_seed(SECRET, [3, 1, 2], kind="subjects")
    assert members_seed(SECRET, [1, 2, 3, 3], kind="subjects") == seed
    assert members_seed(SECRET, [1, 2, 3, 4], kind="subjects") != seed
    assert members_seed(SECRET, [1, 2, 3], kind="visits") != seed


def test_the_differencing_attack_fails_on_members_seeds_too() -> None:
    rng, right = random.Random(7), 0
    for i in range(2_000):
        n, is_member = rng.randrange(0, 60), rng.random() < 0.5
        members = range(i * 1_000, i * 1_000 + n)
        seed_a = members_seed(SECRET, members, kind="subjects")
        seed_b = members_seed(SECRET, [*members, -1] if is_member else members, kind="subjects")
        a = protect(n, seed_material=seed_a).value or -1
        b = protect(n + is_member, seed_material=seed_b).value or -1
        right += (b > a if b != a else rng.random() < 0.5) == is_member
    assert right / 2_000 <= ACCURACY_BOUND


def test_re_running_the_same_criteria_never_locks_an_investigator_out() -> None:
    assert repeated_count_lockout([("same", 42)] * 100) is None


def test_an_eighth_rewrite_with_the_same_true_count_locks_the_investigator_out() -> None:
    history = [(f"criteria {i}", 42) for i in range(7)] + [("other", 43), ("small", 2)]
    assert repeated_count_lockout(history) is None
    lockout = repeated_count_lockout([*history, ("criteria 7", 42)])
    assert lockout is not None and lockout.distinct_criteria == 8
    assert "42" not in lockout.detail


def test_counts_below_k_never_lead_to_a_lockout() -> None:
    assert repeated_count_lockout([(f"c{i}", 3) for i in range(50)]) is None
    assert repeated_count_lockout([(f"c{i}", 3) for i in range(50)], k=3) is not None
