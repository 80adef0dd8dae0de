"""What the shipment pages share: a form's fields as the input schemas read them."""

from __future__ import annotations

from flask import request


def form_fields() -> dict[str, str]:
    """The submitted fields but the CSRF token (the schemas refuse fields they do not know);
    a textarea of scans stays one string, which the schema splits."""
    return {k: v for k, v in request.form.items() if k != "csrf_token"}
