"""Import every feature's models so Base.metadata is complete (Alembic and tests need it)."""

from __future__ import annotations


def import_all() -> None:
    import lims.audit.models
    import lims.auth.models
    import lims.labels.models
    import lims.phenotype.models
    import lims.requests.feasibility_models
    import lims.requests.models
    import lims.shipments.models
    import lims.specimens.consent_models
    import lims.specimens.models
    import lims.storage.models  # noqa: F401
