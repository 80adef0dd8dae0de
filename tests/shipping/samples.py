"""Manifests as the LIMS would build them, for the shipping tests and bench/manifest.py."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

from shipping import Address, Manifest, ManifestItem

SENDER = Address(
    organisation="Dystonia Coalition Site 04, Emory University",
    person="Dana Whitfield",
    lines=("Woodruff Memorial Research Building", "101 Woodruff Circle, Suite 6000"),
    city="Atlanta",
    region="GA",
    postal_code="30322",
    country="US",
    phone_24h="+1 404 555 0147",
    email="biobank.site04@example.org",
)
RECIPIENT = Address(
    organisation="Zentrale Biobank, Universitätsklinikum Würzburg",
    person="Dr. Jörg Albrecht",
    lines=("Josef-Schneider-Straße 2", "Haus D7"),
    city="Würzburg",
    region="BY",
    postal_code="97080",
    country="DE",
    phone_24h="+49 931 555 0199",
    email="biobank@example.org",
)
ROWS = "ABCDEFGHI"
EASTERN = timezone(timedelta(hours=-5))


def item(n: int, *, per_box: int = 81) -> ManifestItem:
    """Tube n: 8-digit ids as the LIMS issues, boxes of 9x9 filled A1, A2, ... I9."""
    box_number, slot = divmod(n, per_box)
    is_dna = n % 3 == 0
    return ManifestItem(
        barcode=f"{10000000 + n:08d}",
        specimen_type="DNA" if is_dna else "Serum",
        quantity=Decimal("100") if is_dna else Decimal("250"),
        unit="uL",
        box=f"B{box_number + 1:07d}",
        position=f"{ROWS[slot // 9 % 9]}{slot % 9 + 1}",
        study_code=f"NA1-{n // 6 % 10000:04d}",
        visit_number=n % 4 + 1,
        collected_at=datetime(2026, 3, 18, 9, 30, tzinfo=EASTERN) + timedelta(days=n % 200),
        specimen_barcode=f"P{n // 6:07d}",
        tube_type="SST" if not is_dna else "EDTA",
        sprec="SER-SST-A-B-N-A-B" if not is_dna else None,
        concentration_ng_ul=Decimal("178.8") if is_dna else None,
        freeze_thaw_count=0,
    )


def make_manifest(count: int = 200, *, per_box: int = 81, **changes: object) -> Manifest:
    manifest = Manifest(
        shipment_id="S0000017",
        sender=SENDER,
        recipient=RECIPIENT,
        responsible_person="Dana Whitfield",
        shipped_on=date(2026, 12, 7),
        courier="World Courier",
        tracking_number="WC-7731-0042",
        dry_ice_kg=Decimal("12.5"),
        purpose="Return of site specimens to the central biorepository",
        items=tuple(item(n, per_box=per_box) for n in range(count)),
        temperature_logger_id="TL-0093",
    )
    return replace(manifest, **changes)  # type: ignore[arg-type]
