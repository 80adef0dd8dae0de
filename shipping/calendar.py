"""Arrival days: frozen material must not sit on a closed loading dock."""

from datetime import date

import holidays

# Biorepositories ship frozen specimens early in the week so they never arrive on a weekend or
# a public holiday at the destination (Salimetrics shipping instructions: Monday-Wednesday; PPB
# Genetic Study: never Friday-Sunday or before a holiday; labels-and-shipping.md 5.5).
_WEEKEND = {5: "Saturday", 6: "Sunday"}


def arrival_warnings(arrival: date, country: str, subdivision: str | None = None) -> list[str]:
    """Why `arrival` is a bad day to receive frozen specimens at the destination; [] if none.

    `country` is ISO 3166-1 alpha-2, `subdivision` the ISO 3166-2 code's second part ("BY" for
    Bavaria, "CA" for California): state holidays are only known with it.
    """
    country = country.strip().upper()
    subdivision = subdivision.strip().upper() if subdivision and subdivision.strip() else None
    where = f"{country}-{subdivision}" if subdivision else country
    warnings = []
    if arrival.weekday() in _WEEKEND:
        warnings.append(
            f"{arrival.isoformat()} is a {_WEEKEND[arrival.weekday()]}: nobody may be there to "
            "receive and freeze the specimens"
        )
    try:
        calendar = holidays.country_holidays(
            country, subdiv=subdivision, years=arrival.year, language="en_US"
        )
    except NotImplementedError:
        warnings.append(
            f"no public holiday calendar is known for {where}: check {arrival.isoformat()} "
            "with the recipient"
        )
        return warnings
    if (name := calendar.get(arrival)) is not None:
        warnings.append(f"{arrival.isoformat()} is a public holiday in {where}: {name}")
    return warnings
