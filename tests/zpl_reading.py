"""Reading ZPL back as a printer would print it: zplkit renders it offline, zxing-cpp decodes.

zplkit (PyPI, a Rust ZPL renderer) is independent of our ZPL writer. It is a check, not the
proof: only a printer is (see docs/dev/label-printing.md for what it does not render).
"""

from __future__ import annotations

import io
import os

import pytest
from PIL import Image

try:
    import zplkit
except ImportError:  # pragma: no cover - the test extra installs it
    zplkit = None


def render_zpl_png(zpl: str, dpi: int) -> list[Image.Image]:
    """Each ^XA…^XZ format as a greyscale image at the printer's `dpi`."""
    if zplkit is None:
        if os.environ.get("LIMS_REQUIRE_ALL") == "1":
            pytest.fail("zplkit (the offline ZPL renderer) is required in CI")
        pytest.skip("zplkit is not installed")
    document = zplkit.render(zpl, zplkit.Options(dpi=dpi))
    return [Image.open(io.BytesIO(scene.png())).convert("L") for scene in document.labels]


def zpl_render_error(zpl: str, dpi: int) -> str | None:
    """zplkit's refusal of `zpl`, or None when it renders."""
    try:
        render_zpl_png(zpl, dpi)
    except ValueError as err:  # zplkit.rendering.RenderError is a ValueError
        return str(err)
    return None
