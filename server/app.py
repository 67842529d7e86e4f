"""The Flask application factory: configuration from the environment, one engine, the API blueprints.

Every error leaves as JSON ``{"error": code, "message": Russian text}`` with a 4xx status where the
request was at fault, keeping the headers HTTP gives the error (``Allow`` of a 405); a database that
is down, unreachable or locked gets 503 with ``Retry-After``, never 500. Nothing is open without a
token except the health check, the API's own description and the administrators' login
(rate-limited). Behind reverse proxies (`CANTEEN_PROXIES`), the client's address is taken from
X-Forwarded-For, so the login limit per address sees the clients and not the proxy.
"""

from __future__ import annotations

import logging
import sqlite3
from dataclasses import dataclass, field
from typing import Any, ClassVar

import psycopg
from flask import Flask, jsonify, request
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix

from server import accounts
from server.config import ServerConfig
from server.db import make_server_engine, unavailable

log = logging.getLogger(__name__)

MESSAGES = {
    400: "неверный запрос", 401: "нужен токен доступа (Authorization: Bearer …)", 403: "доступ запрещён",
    404: "не найдено", 405: "метод не разрешён для этого адреса", 413: "запрос слишком большой",
    415: "неверный тип содержимого", 422: "данные не прошли проверку",
    429: "слишком много запросов; повторите позже",
}
RETRY_AFTER_S = 30
"""What a 503 asks the client to wait: the terminals' scheduler backs off on its own anyway."""
UNAVAILABLE = f"база данных сервера недоступна; повторите через {RETRY_AFTER_S} с"


class ApiError(Exception):
    """A request the API refuses: its status code and a Russian message for the caller."""

    NAMES: ClassVar[dict[int, str]] = {400: "bad_request", 401: "unauthorized", 403: "forbidden",
                                       404: "not_found", 409: "conflict", 413: "too_large",
                                       422: "unprocessable", 429: "too_many_requests", 503: "unavailable"}

    def __init__(self, code: int, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.headers = headers or {}


@dataclass
class State:
    config: ServerConfig
    engine: Engine
    # What «Сегодня» keeps of the review queue's counts per school (`server.office.reviews.dashboard_counts`)
    review_counts: dict[str, Any] = field(default_factory=dict)


def state(app: Flask) -> State:
    result: State = app.extensions["canteen"]
    return result


def create_app(config: ServerConfig | dict[str, Any] | None = None) -> Flask:
    """The server app; `config` overrides the environment (tests pass a dict or a ServerConfig)."""
    cfg = config if isinstance(config, ServerConfig) else ServerConfig.from_env().with_overrides(config or {})
    app = Flask(__name__)
    app.config.update(SECRET_KEY=cfg.secret_key, MAX_CONTENT_LENGTH=cfg.max_content_length, JSON_SORT_KEYS=False)
    app.json.ensure_ascii = False  # type: ignore[attr-defined]
    app.extensions["canteen"] = State(cfg, make_server_engine(cfg.database_url))
    accounts.dummy_hash()  # made now, so the first unknown login takes no longer than the next ones
    if cfg.proxies:
        # Trust exactly as many X-Forwarded-For hops as there are proxies of ours; more would let a
        # client pick its own address and escape the login limit.
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=cfg.proxies, x_proto=cfg.proxies)  # type: ignore[method-assign]

    from server.api.admin import bp as admin_bp
    from server.api.office import bp as office_bp
    from server.api.reviews import bp as reviews_bp
    from server.api.sync import bp as sync_bp

    app.register_blueprint(sync_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(office_bp)
    app.register_blueprint(reviews_bp)

    from server.web import init_app as init_office
    from server.web.errors import is_office_request, office_error

    init_office(app, cfg)

    @app.errorhandler(ApiError)
    def api_error(exc: ApiError) -> Any:
        return jsonify(error=ApiError.NAMES.get(exc.code, "error"), message=exc.message), exc.code, exc.headers

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        code = exc.code or 500
        if is_office_request():
            return office_error(code)
        message = MESSAGES.get(code, exc.name)
        if code == 413 and (request.content_length or cfg.max_content_length + 1) > cfg.max_content_length:
            # (Werkzeug's other 413s are about multipart form fields, not the body's length.)
            message = f"тело запроса больше {_size(cfg.max_content_length)}"
        # Werkzeug's own headers (Allow of a 405, Retry-After, WWW-Authenticate) stay; the body is ours.
        headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
        return jsonify(error=exc.name.lower().replace(" ", "_"), message=message), code, headers

    @app.errorhandler(SQLAlchemyError)
    @app.errorhandler(psycopg.Error)  # ingest talks to the drivers directly for speed
    @app.errorhandler(sqlite3.Error)
    def database_error(exc: Exception) -> Any:
        if not unavailable(exc):
            return unexpected(exc)
        log.warning("database unavailable: %s", exc)
        return (jsonify(error=ApiError.NAMES[503], message=UNAVAILABLE), 503,
                {"Retry-After": str(RETRY_AFTER_S)})

    @app.errorhandler(Exception)
    def unexpected(exc: Exception) -> Any:
        log.exception("unexpected error")
        if is_office_request():
            return office_error(500)
        return jsonify(error="internal_error", message="внутренняя ошибка сервера; запрос можно повторить"), 500

    return app


def _size(limit: int) -> str:
    """A byte count as staff read it: «16 МБ», «512 КБ», «1000 байт»."""
    for unit, name in ((1024 * 1024, "МБ"), (1024, "КБ")):
        if limit >= unit and limit % unit == 0:
            return f"{limit // unit} {name}"
    return f"{limit} байт"
