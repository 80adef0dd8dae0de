"""Arrival days: frozen specimens must not arrive when nobody is there to receive them."""

from datetime import date

from shipping import arrival_warnings


def test_a_tuesday_that_is_no_holiday_gives_no_warning() -> None:
    assert arrival_warnings(date(2026, 12, 8), "US", "MA") == []


def test_a_weekend_arrival_is_named_by_its_day() -> None:
    assert arrival_warnings(date(2026, 12, 5), "DE") == [
        "2026-12-05 is a Saturday: nobody may be there to receive and freeze the specimens"
    ]


def test_thanksgiving_is_a_holiday_in_the_united_states() -> None:
    assert arrival_warnings(date(2026, 11, 26), "US") == [
        "2026-11-26 is a public holiday in US: Thanksgiving Day"
    ]


def test_german_unity_day_is_a_holiday_everywhere_in_germany() -> None:
    assert arrival_warnings(date(2025, 10, 3), "DE") == [
        "2025-10-03 is a public holiday in DE: German Unity Day"
    ]


def test_a_state_holiday_needs_the_state_epiphany_in_bavaria_not_in_berlin() -> None:
    # 6 January 2026 is a Tuesday: a holiday in Bavaria, Baden-Württemberg and Saxony-Anhalt.
    assert arrival_warnings(date(2026, 1, 6), "DE", "BY") == [
        "2026-01-06 is a public holiday in DE-BY: Epiphany"
    ]
    assert arrival_warnings(date(2026, 1, 6), "DE", "BE") == []


def test_a_holiday_on_a_weekend_gives_both_warnings() -> None:
    assert arrival_warnings(date(2027, 12, 25), "US") == [
        "2027-12-25 is a Saturday: nobody may be there to receive and freeze the specimens",
        "2027-12-25 is a public holiday in US: Christmas Day",
    ]


def test_a_country_without_a_calendar_asks_to_check_with_the_recipient() -> None:
    assert arrival_warnings(date(2026, 12, 8), "XX") == [
        "no public holiday calendar is known for XX: check 2026-12-08 with the recipient"
    ]


def test_codes_are_read_whatever_their_case_and_an_empty_region_is_none() -> None:
    assert arrival_warnings(date(2026, 1, 6), "de", "by") == [
        "2026-01-06 is a public holiday in DE-BY: Epiphany"
    ]
    assert arrival_warnings(date(2026, 1, 6), "DE", "") == []
