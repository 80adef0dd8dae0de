"""The Dystonia Biobank LIMS: create_app() builds the Flask application."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask, Response, g, request
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect
from werkzeug.middleware.proxy_fix import ProxyFix

import config

ROOT = Path(__file__).resolve().parent.parent
csrf = CSRFProtect()
login_manager = LoginManager()


def create_app(overrides: Mapping[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "lims" / "static"),
        instance_path=str(config.INSTANCE_DIR),
    )
    app.config.update(config.load())
    app.config.update(overrides or {})
    cookies = config.cookie_security(app.config)
    app.config.update({k: v for k, v in cookies.items() if k not in (overrides or {})})
    if hops := app.config["PROXY_HOPS"]:
        # The client's address (the sign-in throttle), scheme, host and port as the proxy saw
        # them (deploy/nginx.conf sets all four), so redirects and links stay on https.
        app.wsgi_app = ProxyFix(  # type: ignore[method-assign]
            app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops, x_port=hops
        )
    logging.basicConfig(level=logging.INFO)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)

    from lims import db, errors, web
    from lims.audit import keys

    keys.active()  # a malformed audit keyring stops the start, not the first audited change
    db.init_app(app)
    errors.register(app, rollback=db.rollback_request_session)
    app.url_map.converters["int"] = web.IdConverter  # before the blueprints add their rules
    app.before_request(web.refuse_nul_in_request)
    csrf.init_app(app)
    _init_login(app)
    _register_blueprints(app)
    from lims import find

    # The audit trail names its objects and finds typed codes through the features above it,
    # which it may not import: the application hands them over, as it does auth's token loader.
    app.extensions["lims_audit_directory"] = find.DIRECTORY
    _register_cli(app)
    from lims.auth import timezones
    from lims.errors import plural
    from lims.web import may_open, nav_links

    app.jinja_env.globals["nav_links"] = nav_links
    app.jinja_env.globals["may_open"] = may_open
    # The header's unread-notifications badge: requests owns notifications, base.html shows it.
    from lims.requests.views.requests import unread_notifications

    app.jinja_env.globals["unread_notifications"] = unread_notifications
    app.jinja_env.filters["plural"] = plural
    # {{ specimen.collected_at | local(specimen.collection_zone) }}: "2026-03-05 19:30 PST".
    app.jinja_env.filters["local"] = timezones.shown
    # {{ problem.field | field_label }}: "Volume (µL)", never volume_ul (issue 15).
    app.jinja_env.filters["field_label"] = errors.field_label
    app.after_request(_security_headers)
    return app


# Scripts and styles only from our own files (no inline code an injected string could use).
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"
)


def _security_headers(response: Response) -> Response:
    """No framing (clickjacking), no MIME sniffing, no URLs with barcodes sent to other sites,
    no inline script, and no copy of a page or an answer (they show study codes) in any cache."""
    response.headers.setdefault("X-Frame-Options", "DENY")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    if request.endpoint != "static":
        response.headers["Cache-Control"] = "no-store"
    return response


def _init_login(app: Flask) -> None:
    from lims.auth import services
    from lims.auth.views import session_user
    from lims.db import get_session

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = "Sign in to continue."
    login_manager.login_message_category = "info"

    login_manager.user_loader(session_user)

    # lims.web's token_required asks for a bearer token's user the way Flask-Login asks for the
    # session's: through a loader auth supplies here, so web needs no import of auth.
    def _load_token(token: str) -> Any:
        row = services.find_token(get_session(primary=True), token)
        g.api_token_id = row.id
        return row.user

    app.extensions["lims_token_loader"] = _load_token

    # GET /api/v1/aliquots/{barcode} (storage) carries the visit's phenotype summary; storage
    # and phenotype sit side by side on specimens, so the application hands it over.
    from lims.phenotype.api import aliquot_summary

    app.extensions["lims_aliquot_phenotype"] = aliquot_summary


def _register_blueprints(app: Flask) -> None:
    from lims import find, home, openapi
    from lims.audit import api as audit_api
    from lims.audit import views as audit_views
    from lims.auth import api as auth_api
    from lims.auth import views as auth_views
    from lims.labels import api as labels_api
    from lims.labels import views as labels_views
    from lims.phenotype import api as phenotype_api
    from lims.phenotype import views as phenotype_views
    from lims.requests import api as requests_api
    from lims.requests import views as requests_views
    from lims.shipments import api as shipments_api
    from lims.shipments import views as shipments_views
    from lims.specimens import api as specimens_api
    from lims.specimens import views as specimens_views
    from lims.storage import api as storage_api
    from lims.storage import views as storage_views

    for bp in (
        auth_views.bp,
        audit_views.bp,
        home.bp,
        find.bp,
        specimens_views.bp,
        storage_views.bp,
        labels_views.bp,
        phenotype_views.bp,
        shipments_views.bp,
        requests_views.bp,
    ):
        app.register_blueprint(bp)
    # The API authenticates with bearer tokens, not cookies, so CSRF does not apply there.
    for api_bp in (
        auth_api.bp,
        audit_api.bp,
        specimens_api.bp,
        storage_api.bp,
        labels_api.bp,
        phenotype_api.bp,
        shipments_api.bp,
        *requests_api.BLUEPRINTS,
        find.api,
        openapi.bp,
    ):
        csrf.exempt(api_bp)
        app.register_blueprint(api_bp)


def _register_cli(app: Flask) -> None:
    from lims import cli

    for group in cli.groups():
        app.cli.add_command(group)
