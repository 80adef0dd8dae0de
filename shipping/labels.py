"""Labels for the boxes of a shipment, printed through label_printing on a 4" x 6" stock."""

from label_printing import BoxLabel, get_stock, render_pdf, render_zpl
from shipping.model import Manifest, boxes_of, count

PACKAGE_STOCK_ID = "package-4x6-203"


def package_labels(manifest: Manifest) -> list[BoxLabel]:
    """One label per storage box, in packing order: the shipment id to scan, "Box n of m",
    the box's barcode and tube count, and the UN3373 mark with "Biological Substance,
    Category B". Loose tubes get one more."""
    parcels = boxes_of(manifest.items)
    return [
        BoxLabel(
            barcode=manifest.shipment_id,
            name=f"Box {n} of {len(parcels)}",
            detail=f"{box or 'Loose tubes'}  ·  {count(len(items), 'tube')}",
            is_un3373=True,
        )
        for n, (box, items) in enumerate(parcels, start=1)
    ]


def package_labels_pdf(manifest: Manifest) -> bytes:
    """package_labels as a PDF, one 4" x 6" page per label."""
    return render_pdf(package_labels(manifest), get_stock(PACKAGE_STOCK_ID))


def package_labels_zpl(manifest: Manifest) -> str:
    """package_labels as ZPL II for a 203 dpi thermal printer."""
    return render_zpl(package_labels(manifest), get_stock(PACKAGE_STOCK_ID))
