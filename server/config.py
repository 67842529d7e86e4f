"""Server configuration from environment variables (twelve-factor): one typed object."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from typing import Any


class ConfigError(ValueError):
    """An environment variable of the server that cannot be used (Russian message naming it)."""


@dataclass(frozen=True)
class ServerConfig:
    database_url: str = "sqlite:///var/server.db"
    """CANTEEN_DATABASE_URL: SQLAlchemy URL; ``postgresql://user@host/db`` in production."""
    secret_key: str = ""
    """CANTEEN_SECRET_KEY: Flask's secret (signed cookies of the admin pages); random per process if unset."""
    max_content_length: int = 16 * 1024 * 1024
    """CANTEEN_MAX_CONTENT_LENGTH: the largest request body in bytes; larger ones get 413."""
    max_batch: int = 5000
    """CANTEEN_MAX_BATCH: the most events one push may carry."""
    session_hours: float = 12.0
    """CANTEEN_SESSION_HOURS: how long an administrator's login token lives."""
    stale_hours: float = 36.0
    """CANTEEN_STALE_HOURS: a meal served this long after the terminal's last pull is flagged stale."""
    login_max_failures: int = 10
    """CANTEEN_LOGIN_MAX_FAILURES: failed logins of one login name within the window before 429."""
    login_ip_max_failures: int = 30
    """CANTEEN_LOGIN_IP_MAX_FAILURES: failed logins from one address within the window before 429."""
    login_window_min: float = 10.0
    """CANTEEN_LOGIN_WINDOW_MIN: the window (minutes) the failed logins are counted in."""
    proxies: int = 0
    """CANTEEN_PROXIES: reverse proxies (nginx) in front that set X-Forwarded-For; 0 = clients connect directly."""
    https: bool = False
    """CANTEEN_HTTPS: 1 when the office is served over HTTPS: its sign-in cookie is then sent only over HTTPS."""
    office_idle_min: float = 30.0
    """CANTEEN_OFFICE_IDLE_MIN: minutes without activity after which an office user is signed out."""
    full_sync_slots: int = 1
    """CANTEEN_FULL_SYNC_SLOTS: full pulls (snapshots) served at once across all workers; more get 503 and
    Retry-After (the nightly wave of terminals spread out); 0 = no limit. Keep it below the workers: each
    snapshot holds a worker that pushes and deltas then wait for."""
    full_sync_retry_s: float = 30.0
    """CANTEEN_FULL_SYNC_RETRY_S: the least a refused full pull is told to wait; up to twice that with jitter."""

    @classmethod
    def from_env(cls, env: dict[str, str] | None = None) -> ServerConfig:
        """The configuration from the environment; ConfigError names a variable that is not a number ≥ 0."""
        env = dict(os.environ if env is None else env)

        def number(name: str, default: float, kind: type[int] | type[float]) -> Any:
            text = env.get(name, "").strip()
            if not text:
                return default
            try:
                value = kind(text)
            except ValueError:
                value = -1
            if not value >= 0:  # also NaN
                what = "целое число" if kind is int else "число"
                raise ConfigError(f"{name}: ожидается {what} ≥ 0, а не {text!r}")
            return value

        return cls(
            database_url=env.get("CANTEEN_DATABASE_URL", cls.database_url),
            secret_key=env.get("CANTEEN_SECRET_KEY") or secrets.token_hex(32),
            max_content_length=number("CANTEEN_MAX_CONTENT_LENGTH", cls.max_content_length, int),
            max_batch=number("CANTEEN_MAX_BATCH", cls.max_batch, int),
            session_hours=number("CANTEEN_SESSION_HOURS", cls.session_hours, float),
            stale_hours=number("CANTEEN_STALE_HOURS", cls.stale_hours, float),
            login_max_failures=number("CANTEEN_LOGIN_MAX_FAILURES", cls.login_max_failures, int),
            login_ip_max_failures=number("CANTEEN_LOGIN_IP_MAX_FAILURES", cls.login_ip_max_failures, int),
            login_window_min=number("CANTEEN_LOGIN_WINDOW_MIN", cls.login_window_min, float),
            proxies=number("CANTEEN_PROXIES", cls.proxies, int),
            https=env.get("CANTEEN_HTTPS", "0").strip().lower() in {"1", "true", "yes", "on"},
            office_idle_min=number("CANTEEN_OFFICE_IDLE_MIN", cls.office_idle_min, float),
            full_sync_slots=number("CANTEEN_FULL_SYNC_SLOTS", cls.full_sync_slots, int),
            full_sync_retry_s=number("CANTEEN_FULL_SYNC_RETRY_S", cls.full_sync_retry_s, float),
        )

    def with_overrides(self, overrides: dict[str, Any]) -> ServerConfig:
        from dataclasses import replace

        return replace(self, **overrides)
