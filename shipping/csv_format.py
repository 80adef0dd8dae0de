"""The manifest as CSV, versioned, and its parser: how one site's manifest reaches another.

The column set is documented in docs/user/shipping-manifest-csv.md; a change to it is a new
MANIFEST_CSV_VERSION.
"""

from shipping.errors import ManifestErrors, ManifestProblem
from shipping.model import Manifest

MANIFEST_CSV_VERSION = "1"

__all__ = ["MANIFEST_CSV_VERSION", "ManifestErrors", "ManifestProblem"]


def manifest_csv(manifest: Manifest) -> str:
    """The manifest as CSV text (UTF-8 when written out), readable by parse_manifest_csv."""
    raise NotImplementedError  # TODO(#18): filled in by the next commits


def parse_manifest_csv(text: str) -> Manifest:
    """A manifest CSV read back; ManifestErrors names every problem found."""
    raise NotImplementedError  # TODO(#18): filled in by the next commits
