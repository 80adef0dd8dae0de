"""Site time zones: times are entered and shown as the site lived them, stored as UTC instants.

The one place that turns a wall-clock time typed at a site into an instant, and an instant back
into the site's wall clock. Every feature that reads or shows a time a person entered goes
through here (specimens and labels build on auth, so they may import it).

Zones are IANA names ("America/Los_Angeles"), read by the standard library's zoneinfo from the
operating system's tz database, or from the `tzdata` package where the system has none.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import cache
from zoneinfo import ZoneInfo, available_timezones

DEFAULT_ZONE = "UTC"

# Countries that keep one civil time, and the zone that zone.tab (IANA tz database) names for
# them; a new site in one of these gets it by default. Countries with several (US, CA, MX, BR,
# AU, RU, ES, PT, ...) get UTC until someone chooses: a wrong guess would shift every time.
COUNTRY_ZONES = {
    "AT": "Europe/Vienna", "BE": "Europe/Brussels", "BG": "Europe/Sofia",
    "CH": "Europe/Zurich", "CN": "Asia/Shanghai", "CZ": "Europe/Prague",
    "DE": "Europe/Berlin", "DK": "Europe/Copenhagen", "FI": "Europe/Helsinki",
    "FR": "Europe/Paris", "GB": "Europe/London", "GR": "Europe/Athens",
    "HR": "Europe/Zagreb", "HU": "Europe/Budapest", "IE": "Europe/Dublin",
    "IL": "Asia/Jerusalem", "IN": "Asia/Kolkata", "IS": "Atlantic/Reykjavik",
    "IT": "Europe/Rome", "JP": "Asia/Tokyo", "KR": "Asia/Seoul",
    "NL": "Europe/Amsterdam", "NO": "Europe/Oslo", "PL": "Europe/Warsaw",
    "RO": "Europe/Bucharest", "RS": "Europe/Belgrade", "SE": "Europe/Stockholm",
    "SG": "Asia/Singapore", "SI": "Europe/Ljubljana", "SK": "Europe/Bratislava",
    "TR": "Europe/Istanbul", "TW": "Asia/Taipei", "ZA": "Africa/Johannesburg",
}  # fmt: skip


class WallClockError(ValueError):
    """A wall-clock time that names no instant, or two, in the site's zone."""


@cache
def known_zones() -> frozenset[str]:
    return frozenset(available_timezones())


def zone_problem(name: str) -> str | None:
    """Why a time zone name is refused, or None."""
    if name in known_zones():
        return None
    return f"{name[:64]!r} is not an IANA time zone; write e.g. America/New_York or Europe/Berlin"


def zone_for_country(country: str) -> str:
    """The default zone of a site in a country: its only one, or UTC where there are several."""
    return COUNTRY_ZONES.get(country.strip().upper(), DEFAULT_ZONE)


@cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def to_utc(moment: datetime, zone: str) -> datetime:
    """The instant of a time as entered: with an offset it is taken as given; without one it is
    the wall clock at a site in `zone`. A time the clocks skipped (spring forward) or showed twice
    (fall back) is refused with a WallClockError that says which and how to write it."""
    try:
        instant = _instant(moment, zone)
        instant.astimezone(_zone(zone))  # it must show on the site's clock too
        return instant
    except OverflowError:  # 0001-01-01 00:00+01:00 has no UTC instant in a datetime
        raise WallClockError(
            f"{moment.isoformat()} is beyond the years 1 to 9999 in UTC or on the site's clock"
        ) from None


def _instant(moment: datetime, zone: str) -> datetime:
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    tz = _zone(zone)
    first, second = moment.replace(tzinfo=tz, fold=0), moment.replace(tzinfo=tz, fold=1)
    if first.utcoffset() == second.utcoffset():
        return first.astimezone(UTC)
    wall = f"{moment:%Y-%m-%d %H:%M}"
    if first.astimezone(UTC).astimezone(tz).replace(tzinfo=None) != moment:
        # In a gap, fold=0 reads the time with the offset before the change.
        raise WallClockError(
            f"{wall} did not exist in {zone}: the clocks went forward from "
            f"{first.tzname()} to {second.tzname()} at that hour. Check the time; if a clock "
            f"still showed {first.tzname()}, give its offset: {_with_offset(first)}"
        )
    raise WallClockError(
        f"{wall} happened twice in {zone}: the clocks went back from {first.tzname()} to "
        f"{second.tzname()}. Give the offset: {_with_offset(first)} for the first "
        f"({first.tzname()}), {_with_offset(second)} for the second ({second.tzname()})"
    )


def _with_offset(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


def local(moment: datetime, zone: str) -> datetime:
    """The instant on the wall clock of `zone`, aware of its offset."""
    return moment.astimezone(_zone(zone))


def local_date(moment: datetime, zone: str) -> date:
    """The calendar day at the site: a 19:30 draw in Los Angeles is that day, not UTC's next."""
    return local(moment, zone).date()


def shown(moment: datetime | None, zone: str) -> str:
    """For people: "2026-03-05 19:30 PST" (empty for no time)."""
    return "" if moment is None else local(moment, zone).strftime("%Y-%m-%d %H:%M %Z")


def iso(moment: datetime | None, zone: str) -> str | None:
    """For machines (exports, the API): ISO 8601 with the site's offset at that instant."""
    return None if moment is None else local(moment, zone).isoformat()
