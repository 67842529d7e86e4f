"""The school office in a browser: server-rendered pages (Jinja, Russian) on the server's Flask app.

`init_app` adds sign-in sessions (Flask-Login: HttpOnly, SameSite=Lax, Secure behind HTTPS), CSRF
checks on every office form, the idle timeout, the Jinja filters and the `office` blueprint. Every
route of the blueprint declares who may use it with `server.web.auth.allow` (or `public`); the
rules themselves are service functions in `server.office`.
"""

from __future__ import annotations

from datetime import timedelta

from flask import Flask

from server.config import ServerConfig


def init_app(app: Flask, config: ServerConfig) -> None:
    from server.web import (  # noqa: F401  (the modules add their routes)
        auth,
        benefit_pages,
        calendar_pages,
        district_pages,
        filters,
        imports,
        kitchen_pages,
        menu_pages,
        notice_pages,
        order_pages,
        pages,
        parent_pages,
        payments_pages,
        policy_pages,
        report_pages,
        request_pages,
        review_queue,
        students,
        terminals,
        users,
    )
    from server.web.blueprint import bp

    app.config.update(
        SESSION_COOKIE_HTTPONLY=True, SESSION_COOKIE_SAMESITE="Lax", SESSION_COOKIE_SECURE=config.https,
        # The idle timeout is checked per request (`auth.idle_check`); this only bounds a cookie's life.
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        # The API is called with bearer tokens, not cookies: CSRF is checked by the office blueprint only.
        WTF_CSRF_CHECK_DEFAULT=False, WTF_CSRF_TIME_LIMIT=None,
        OFFICE_IDLE=timedelta(minutes=config.office_idle_min),
    )
    auth.init(app)
    app.register_blueprint(bp)
