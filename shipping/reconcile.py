"""Receiving by scan: what arrived, measured against what the manifest promised."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Reconciliation:
    """Every scanned or expected barcode lands in exactly one of the lists, except duplicates,
    which also count once as received (or unexpected, or wrong shipment)."""

    received: tuple[str, ...]  # expected and scanned, in scan order
    missing: tuple[str, ...]  # expected, not scanned yet, in manifest order
    unexpected: tuple[str, ...]  # scanned, expected in no open shipment
    duplicates: tuple[str, ...]  # scanned more than once, each listed once
    wrong_shipment: Mapping[str, str] = field(default_factory=dict)  # barcode -> its shipment

    @property
    def is_complete(self) -> bool:
        """Every expected tube arrived and nothing else did."""
        return not (self.missing or self.unexpected or self.wrong_shipment)


def reconcile(
    expected: Iterable[str], scanned: Sequence[str], elsewhere: Mapping[str, str] | None = None
) -> Reconciliation:
    """Sort the scans against the manifest. `elsewhere` maps barcodes expected in other open
    shipments to those shipments' ids, so a tube packed into the wrong box is named as such."""
    others = elsewhere or {}
    promised = list(dict.fromkeys(b.strip() for b in expected))
    wanted = set(promised)
    seen: dict[str, int] = {}
    for raw in scanned:
        # A scanner sends the code and a line end; a hand-typed code may carry spaces.
        barcode = raw.strip()
        if barcode:
            seen[barcode] = seen.get(barcode, 0) + 1
    return Reconciliation(
        received=tuple(b for b in seen if b in wanted),
        missing=tuple(b for b in promised if b not in seen),
        unexpected=tuple(b for b in seen if b not in wanted and b not in others),
        duplicates=tuple(b for b, count in seen.items() if count > 1),
        wrong_shipment={b: others[b] for b in seen if b not in wanted and b in others},
    )
