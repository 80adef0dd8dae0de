"""Shipping paperwork as a plain library: manifests (PDF and CSV), receiving by scan, arrival
days and package labels. Data in, bytes or results out.

No Flask, SQLAlchemy or lims imports here (tests/test_boundaries.py); the application builds a
Manifest from its rows and stores or sends what comes back.
"""

from shipping.calendar import arrival_warnings
from shipping.csv_format import MANIFEST_CSV_VERSION, manifest_csv, parse_manifest_csv
from shipping.errors import ManifestErrors, ManifestProblem
from shipping.labels import (
    PACKAGE_STOCK_ID,
    package_labels,
    package_labels_pdf,
    package_labels_zpl,
)
from shipping.model import UN1845_TEXT, UN3373_MARK, UN3373_TEXT, Address, Manifest, ManifestItem
from shipping.pdf import manifest_pdf
from shipping.reconcile import Reconciliation, reconcile

__all__ = [
    "MANIFEST_CSV_VERSION",
    "PACKAGE_STOCK_ID",
    "UN1845_TEXT",
    "UN3373_MARK",
    "UN3373_TEXT",
    "Address",
    "Manifest",
    "ManifestErrors",
    "ManifestItem",
    "ManifestProblem",
    "Reconciliation",
    "arrival_warnings",
    "manifest_csv",
    "manifest_pdf",
    "package_labels",
    "package_labels_pdf",
    "package_labels_zpl",
    "parse_manifest_csv",
    "reconcile",
]
