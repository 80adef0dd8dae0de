"""The manifest as a PDF: the paper copy that travels in the box and the one the sender keeps."""

from typing import Literal

from shipping.model import Manifest

Paper = Literal["A4", "letter"]


def manifest_pdf(manifest: Manifest, *, paper: Paper = "A4") -> bytes:
    """Header, hazard marks, and every tube grouped by box with totals; "page n of m" on each."""
    raise NotImplementedError  # TODO(#18): filled in by the next commits
