"""The requests feature over the API (mounted under /api/v1, issue 19): feasibility, requests
and their review, fulfilment and release. One blueprint per module; create_app registers
BLUEPRINTS."""

from __future__ import annotations

from lims.requests.api import feasibility, fulfilment, release, requests

BLUEPRINTS = (feasibility.bp, requests.bp, fulfilment.bp, release.bp)
