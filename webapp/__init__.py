"""The web door: scan a label, file a record, read the ledger."""

from __future__ import annotations

from datetime import timedelta

from flask import Flask, Response, current_app, request
from flask_compress import Compress
from flask_login import current_user
from flask_wtf.csrf import CSRFProtect
from sqlalchemy.orm import Session, sessionmaker
from werkzeug.middleware.proxy_fix import ProxyFix

from models.clock import Clock, SystemClock
from models.db import make_session_factory
from settings import Settings, database_engine, open_photo_store
from webapp import (
    actions,
    admin,
    audit,
    auth,
    channel_groups,
    chats,
    checklists,
    chrome,
    dashboard,
    db,
    errors,
    i18n,
    inbox,
    labels,
    ledgers,
    notice_settings,
    orders,
    paging,
    records,
    registers,
    reports,
    samples,
    scan,
    schedules,
    score,
    scripts,
    training,
    trips,
)
from webapp.ids import RowIdConverter
from webapp.typed_text import TypedTextRequest

csrf = CSRFProtect()
compress = Compress()


def create_app(
    settings: Settings,
    *,
    session_factory: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
) -> Flask:
    """Build the web app from settings; tests hand in their own sessions and clock."""
    if not settings.server.secret_key:
        raise ValueError("server.secret_key is empty: set it in the config or HOUQIN_SECRET_KEY")
    app = db.App(__name__)
    app.request_class = TypedTextRequest
    app.url_map.converters["id"] = RowIdConverter
    secure = settings.server.base_url.startswith("https://")
    app.config.update(
        SECRET_KEY=settings.server.secret_key,
        MAX_CONTENT_LENGTH=64 * 1024 * 1024,
        PERMANENT_SESSION_LIFETIME=timedelta(days=settings.server.remember_days),
        REMEMBER_COOKIE_DURATION=timedelta(days=settings.server.remember_days),
        REMEMBER_COOKIE_SAMESITE="Lax",
        REMEMBER_COOKIE_SECURE=secure,
        SESSION_COOKIE_SAMESITE="Lax",
        # Sent again when the login is noted as seen (webapp.auth.load_person), not signed
        # anew and resent with every page.
        SESSION_REFRESH_EACH_REQUEST=False,
        SESSION_COOKIE_SECURE=secure,
        WTF_CSRF_TIME_LIMIT=None,
        COMPRESS_MIMETYPES=[
            "text/html",
            "text/css",
            "text/javascript",
            "application/javascript",
            "application/json",
            "image/svg+xml",
        ],
        COMPRESS_MIN_SIZE=200,
        COMPRESS_ALGORITHM=["br", "gzip"],
        # Brotli's fastest quality: a page of 12 kB costs a fifth of the CPU of quality 4
        # (Flask-Compress's default) for about 500 bytes more on the wire.
        COMPRESS_BR_LEVEL=1,
        SEND_FILE_MAX_AGE_DEFAULT=timedelta(days=1),
    )
    if settings.server.proxy_hops:
        hops = settings.server.proxy_hops
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops)  # type: ignore[method-assign]
    app.extensions["houqin.settings"] = settings
    app.extensions["houqin.clock"] = clock or SystemClock()
    app.extensions["houqin.photos"] = open_photo_store(settings.storage)
    if session_factory is None:
        session_factory = make_session_factory(database_engine(settings.database))
    db.init_app(app, session_factory)
    csrf.init_app(app)
    compress.init_app(app)
    i18n.init_app(app, settings)
    auth.init_app(app)
    errors.init_app(app)
    paging.init_app(app)
    scripts.init_app(app)
    chrome.init_app(app)
    app.after_request(_security_headers)
    app.register_blueprint(auth.bp)
    app.register_blueprint(scan.bp)
    app.register_blueprint(records.bp)
    app.register_blueprint(labels.bp)
    app.register_blueprint(actions.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(trips.bp)
    app.register_blueprint(samples.bp)
    app.register_blueprint(checklists.bp)
    app.register_blueprint(admin.bp)
    app.register_blueprint(audit.bp)
    app.register_blueprint(registers.bp)
    app.register_blueprint(schedules.bp)
    app.register_blueprint(chats.bp)
    app.register_blueprint(channel_groups.bp)
    app.register_blueprint(notice_settings.bp)
    app.register_blueprint(score.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(reports.bp)
    app.register_blueprint(ledgers.bp)
    app.register_blueprint(orders.bp)
    app.register_blueprint(training.bp)
    return app


# A year, the usual first step: every page over HTTPS from then on (server.base_url https).
HSTS = "max-age=31536000"
# What is the same for everyone and may sit in any cache: the app's own scripts.
PUBLIC_ENDPOINTS = frozenset({"serve_script", "serve_worker", "static"})
CONTENT_SECURITY_POLICY = (
    # Scripts only from the app's own files (js/photos.js), which posts back to it; blob:
    # is the photo it previews and scales where createImageBitmap is missing.
    "default-src 'none'; img-src 'self' data: blob:; style-src 'unsafe-inline'; "
    "script-src 'self'; connect-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)


def _security_headers(response: Response) -> Response:
    """Nothing loads from elsewhere, no framing, and label URLs never leak in a Referer.

    Behind HTTPS, browsers are told to come back only over HTTPS. What a logged-in person is
    shown is kept by no cache but their browser's: a page not at all (a shared phone's back
    button, a proxy), a photo or a scan only privately (the app's own scripts stay public)."""
    response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "same-origin")
    response.headers.setdefault("X-Frame-Options", "DENY")
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    if current_user.is_authenticated:
        if "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "private, no-store"
        elif response.cache_control.public and request.endpoint not in PUBLIC_ENDPOINTS:
            response.cache_control.public = False
            response.cache_control.private = True
    return response
