"""sites get an IANA time zone; tubes remember the lab that processed them

Stored instants were UTC and stay as they are: nothing to convert. An existing site gets the
zone of its country where the country keeps one civil time (DE: Europe/Berlin), else UTC, which
is how its times were entered until now; an administrator sets the right zone with
`flask --app lims sites set-time-zone CODE ZONE` (docs/user/time-zones.md). Existing tubes get
no processing lab: their receipt and processing times are shown in the collecting site's zone.

Revision ID: 0004_tz
Revises: 0003_auth
Create Date: 2026-12-01 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004_tz"
down_revision: str | None = "0003_auth"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# A copy of lims/auth/timezones.py COUNTRY_ZONES as of this revision: a migration must not
# change when the application's table does.
COUNTRY_ZONES = {
    "AT": "Europe/Vienna",
    "BE": "Europe/Brussels",
    "BG": "Europe/Sofia",
    "CH": "Europe/Zurich",
    "CN": "Asia/Shanghai",
    "CZ": "Europe/Prague",
    "DE": "Europe/Berlin",
    "DK": "Europe/Copenhagen",
    "FI": "Europe/Helsinki",
    "FR": "Europe/Paris",
    "GB": "Europe/London",
    "GR": "Europe/Athens",
    "HR": "Europe/Zagreb",
    "HU": "Europe/Budapest",
    "IE": "Europe/Dublin",
    "IL": "Asia/Jerusalem",
    "IN": "Asia/Kolkata",
    "IS": "Atlantic/Reykjavik",
    "IT": "Europe/Rome",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "NL": "Europe/Amsterdam",
    "NO": "Europe/Oslo",
    "PL": "Europe/Warsaw",
    "RO": "Europe/Bucharest",
    "RS": "Europe/Belgrade",
    "SE": "Europe/Stockholm",
    "SG": "Asia/Singapore",
    "SI": "Europe/Ljubljana",
    "SK": "Europe/Bratislava",
    "TR": "Europe/Istanbul",
    "TW": "Asia/Taipei",
    "ZA": "Africa/Johannesburg",
}


def upgrade() -> None:
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("time_zone", sa.String(length=64), server_default="UTC", nullable=False)
        )
    sites = sa.table("sites", sa.column("country", sa.String), sa.column("time_zone", sa.String))
    for country, zone in COUNTRY_ZONES.items():
        op.execute(sites.update().where(sites.c.country == country).values(time_zone=zone))
    with op.batch_alter_table("specimens", schema=None) as batch_op:
        batch_op.add_column(sa.Column("processing_site_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_specimens_processing_site_id_sites"),
            "sites",
            ["processing_site_id"],
            ["id"],
        )


def downgrade() -> None:
    with op.batch_alter_table("specimens", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_specimens_processing_site_id_sites"), type_="foreignkey"
        )
        batch_op.drop_column("processing_site_id")
    with op.batch_alter_table("sites", schema=None) as batch_op:
        batch_op.drop_column("time_zone")
