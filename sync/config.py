"""The `[sync]` table of the terminal's TOML config: one typed settings object and its one parser.

`parse_sync(table, where)` is used by the terminal's config (terminal/config.py) and by
`canteen sync ... --config FILE` (`load_sync_file`), so both read the same keys with the same
defaults and the same Russian errors, each naming the key.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import time
from pathlib import Path
from typing import Any, NamedTuple

DEFAULT_INTERVAL_S = 180.0
MIN_INTERVAL_S = 5.0


class ConfigError(ValueError):
    """A wrong `[sync]` table or config file; the message is Russian and names the key."""


@dataclass(frozen=True)
class SyncConfig:
    server_url: str = ""
    """Address of the school's server, e.g. ``https://canteen.example.ru``; empty: offline only."""
    token: str = ""
    """The terminal's token from ``canteen server terminal add``."""
    interval_s: float = DEFAULT_INTERVAL_S
    """Seconds between syncs while the server answers."""
    nightly_at: str = "02:30"
    """School time (HH:MM, the school's time zone, not the OS's) of the full nightly sync; empty to disable."""

    @property
    def configured(self) -> bool:
        return bool(self.server_url.strip())


def _fail(where: str, key: str, text: str) -> ConfigError:
    return ConfigError(f"{where}, таблица [sync]: ключ «{key}» {text}")


def parse_sync(table: Any, where: str) -> SyncConfig:
    """The settings from a parsed `[sync]` table; `where` names the file in errors."""
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: «sync» должен быть таблицей [sync]")
    known = {f.name for f in fields(SyncConfig)}
    for key in table:
        if key not in known:
            raise ConfigError(f"{where}: неизвестный ключ «{key}» в таблице [sync]; допустимые: "
                              f"{', '.join(sorted(known))}")
    values: dict[str, Any] = {}
    for key in ("server_url", "token", "nightly_at"):
        if key in table:
            if not isinstance(table[key], str):
                raise _fail(where, key, f"должен быть строкой, а не {table[key]!r}")
            values[key] = table[key].strip()
    if "interval_s" in table:
        interval = table["interval_s"]
        if isinstance(interval, bool) or not isinstance(interval, int | float):
            raise _fail(where, "interval_s", f"должен быть числом секунд, а не {interval!r}")
        if not interval >= MIN_INTERVAL_S:
            raise _fail(where, "interval_s", f"должен быть не меньше {MIN_INTERVAL_S:.0f} секунд, а не {interval}")
        values["interval_s"] = float(interval)
    sync = SyncConfig(**values)
    if sync.nightly_at:
        try:
            time.fromisoformat(sync.nightly_at)
        except ValueError:
            raise _fail(where, "nightly_at", f"должен быть временем ЧЧ:ММ, а не {sync.nightly_at!r}") from None
    if sync.server_url and not sync.token:
        raise _fail(where, "token", "обязателен, если указан server_url: нужен token, выданный администратором "
                                    "сервера")
    if sync.server_url and not sync.server_url.startswith(("http://", "https://")):
        raise _fail(where, "server_url", f"должен начинаться с http:// или https://, а не {sync.server_url!r}")
    return sync


class SyncFile(NamedTuple):
    """What `canteen sync ... --config FILE` needs from the terminal's config."""

    sync: SyncConfig
    db: Path | None
    """The terminal store: top-level ``db`` (relative to the file) or ``[store] path``."""


def load_sync_file(path: str | Path) -> SyncFile:
    """Read the `[sync]` table and the store path of a terminal config file."""
    path = Path(path)
    where = f"файл настроек {path}"
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{where} не найден") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where} не читается: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: ошибка синтаксиса TOML: {exc}") from None
    sync = parse_sync(data.get("sync", {}), where)
    store = data.get("store")
    db = store.get("path") if isinstance(store, Mapping) else data.get("db")
    if db is not None and (not isinstance(db, str) or not db.strip()):
        raise ConfigError(f"{where}: ключ «db» должен быть непустой строкой, а не {db!r}")
    location = Path(db) if db else None
    if location is not None and not location.is_absolute():
        location = path.parent / location
    return SyncFile(sync, location)
