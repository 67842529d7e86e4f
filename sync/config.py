"""The `[sync]` table of the terminal's TOML config (the file itself belongs to the terminal)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path


class ConfigError(ValueError):
    pass


@dataclass(frozen=True)
class SyncConfig:
    server_url: str
    """Base URL of the central server, e.g. ``https://canteen.example.ru``."""
    token: str
    """The terminal's token from ``canteen server terminal add``."""
    interval_s: float = 180.0
    """Seconds between syncs while the server answers."""
    nightly_at: str | None = "02:30"
    """School time (HH:MM, in the school's time zone) of the nightly full run; empty to disable."""
    db: str | None = None
    """The terminal store, if the config names it (``[store] path`` or top-level ``db``)."""

    @classmethod
    def load(cls, path: str | Path) -> SyncConfig:
        try:
            data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from None
        sync = data.get("sync")
        if not isinstance(sync, dict) or not sync.get("server_url") or not sync.get("token"):
            raise ConfigError(f"{path}: нужна таблица [sync] с server_url и token")
        store = data.get("store")
        db = store.get("path") if isinstance(store, dict) else None
        try:
            return cls(server_url=str(sync["server_url"]), token=str(sync["token"]),
                       interval_s=float(sync.get("interval_s", 180.0)),
                       nightly_at=str(sync["nightly_at"]) if sync.get("nightly_at") else None,
                       db=str(db or data.get("db") or "") or None)
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"{path}: [sync]: {exc}") from None
