"""The terminal's config file (TOML): one typed settings object, validated with Russian errors.

Where it comes from: ``--config FILE``, else the ``CANTEEN_CONFIG`` environment variable, else the
embedded defaults (the demo school in ``var/demo.db`` with the simulated reader). Example::

    db = "/var/lib/canteen/terminal.db"
    staff = "Петрова М. И."
    bell_on_refuse = true
    demo = false

    [reader]
    kind = "serial-line"
    device = "/dev/serial/by-id/usb-IronLogic_Z-2_USB-if00-port0"
    format = "ironlogic"

    [sync]
    server_url = "https://pitanie.example.ru"
    token = "…"
    interval_s = 120
    nightly_at = "02:30"
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from datetime import time
from pathlib import Path
from typing import Any

from drivers.config import ReaderConfig, ReaderConfigError

ENV_VAR = "CANTEEN_CONFIG"
DEFAULT_DB = Path("var") / "demo.db"


class ConfigError(ValueError):
    """The config file is missing, unreadable or wrong; the message is Russian and names the key."""


@dataclass(frozen=True)
class SyncConfig:
    server_url: str = ""
    """Address of the school's server; empty means the terminal works offline only."""
    token: str = ""
    """The terminal's access token issued by the server's administrator."""
    interval_s: int = 120
    """Seconds between two sync runs while online."""
    nightly_at: str = "02:30"
    """School time (HH:MM, the school's time zone, not the OS's) of the full nightly sync; empty to disable."""

    @property
    def configured(self) -> bool:
        return bool(self.server_url.strip())


@dataclass(frozen=True)
class TerminalConfig:
    db: Path = DEFAULT_DB
    """The terminal's SQLite database (journal and school data); relative to the config file."""
    staff: str = ""
    """Who is on duty at the window: recorded with overrides, hand serves and undos."""
    bell_on_refuse: bool = True
    """Ring the terminal bell when a tap is refused."""
    history: int = 6
    """How many previous taps are listed under the verdict."""
    demo: bool = False
    """Open the demo school (built if the database does not exist) with a demo clock if needed."""
    reader: ReaderConfig = field(default_factory=ReaderConfig)
    """The ``[reader]`` table, passed to the readers' own config (see docs/readers.md)."""
    sync: SyncConfig = field(default_factory=SyncConfig)
    """The ``[sync]`` table."""
    source: Path | None = None
    """The file these settings came from (None: the embedded defaults)."""


DEMO_DEFAULTS = TerminalConfig(db=DEFAULT_DB, demo=True, staff="Демо", reader=ReaderConfig(kind="sim"))

_TYPE_WORDS = {str: "строкой", int: "целым числом", bool: "true или false"}


def _check(where: str, key: str, value: Any, kind: type) -> Any:
    if (kind is int and isinstance(value, bool)) or not isinstance(value, kind):
        raise ConfigError(f"{where}: ключ «{key}» должен быть {_TYPE_WORDS[kind]}, а не {value!r}")
    return value


def parse_config(data: Mapping[str, Any], *, where: str, base: Path | None = None) -> TerminalConfig:
    """Settings from a parsed TOML document; `where` names the file in errors."""
    top = {f.name for f in fields(TerminalConfig)} - {"source"}
    unknown = sorted(set(data) - top)
    if unknown:
        raise ConfigError(f"{where}: неизвестный ключ «{unknown[0]}»; допустимые: {', '.join(sorted(top))}")
    values: dict[str, Any] = {}
    for key in ("staff",):
        if key in data:
            values[key] = _check(where, key, data[key], str).strip()
    for key in ("bell_on_refuse", "demo"):
        if key in data:
            values[key] = _check(where, key, data[key], bool)
    if "history" in data:
        values["history"] = _check(where, "history", data["history"], int)
        if not 0 <= values["history"] <= 20:
            raise ConfigError(f"{where}: ключ «history» должен быть от 0 до 20, а не {values['history']}")
    if "db" in data:
        db = Path(_check(where, "db", data["db"], str))
        if not str(db).strip():
            raise ConfigError(f"{where}: ключ «db» не может быть пустым")
        values["db"] = db if db.is_absolute() or base is None else base / db
    if "reader" in data:
        table = data["reader"]
        if not isinstance(table, Mapping):
            raise ConfigError(f"{where}: «reader» должен быть таблицей [reader]")
        try:
            values["reader"] = ReaderConfig.from_mapping(table)
        except ReaderConfigError as exc:
            raise ConfigError(f"{where}: ошибка в таблице [reader]: {exc}") from exc
    if "sync" in data:
        values["sync"] = _parse_sync(data["sync"], where)
    return TerminalConfig(**values)


def _parse_sync(table: Any, where: str) -> SyncConfig:
    if not isinstance(table, Mapping):
        raise ConfigError(f"{where}: «sync» должен быть таблицей [sync]")
    known = {f.name: f for f in fields(SyncConfig)}
    values: dict[str, Any] = {}
    for key, value in table.items():
        if key not in known:
            raise ConfigError(f"{where}: неизвестный ключ «{key}» в таблице [sync]; допустимые: "
                              f"{', '.join(sorted(known))}")
        kind = type(known[key].default)
        values[key] = _check(f"{where}, таблица [sync]", key, value, kind)
    sync = SyncConfig(**values)
    if sync.interval_s < 5:
        raise ConfigError(f"{where}: [sync] interval_s должен быть не меньше 5 секунд, а не {sync.interval_s}")
    try:
        if sync.nightly_at:
            time.fromisoformat(sync.nightly_at)
    except ValueError:
        raise ConfigError(f"{where}: [sync] nightly_at должен быть временем ЧЧ:ММ, а не {sync.nightly_at!r}") from None
    if sync.server_url and not sync.token:
        raise ConfigError(f"{where}: [sync] нужен token, выданный администратором сервера")
    if sync.server_url and not sync.server_url.startswith(("http://", "https://")):
        raise ConfigError(f"{where}: [sync] server_url должен начинаться с http:// или https://, "
                          f"а не {sync.server_url!r}")
    return sync


def load_config(path: Path) -> TerminalConfig:
    """Read and validate a config file; relative paths inside are taken from the file's folder."""
    where = f"файл настроек {path}"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{where} не найден") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where} не читается: {exc}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{where}: ошибка синтаксиса TOML: {exc}") from None
    config = parse_config(data, where=where, base=path.parent)
    return TerminalConfig(**{**{f.name: getattr(config, f.name) for f in fields(config)}, "source": path})


def resolve_config(option: Path | None, env: Mapping[str, str] | None = None) -> TerminalConfig:
    """``--config``, else ``$CANTEEN_CONFIG``, else the demo defaults."""
    env = os.environ if env is None else env
    if option is not None:
        return load_config(option)
    if env.get(ENV_VAR):
        return load_config(Path(env[ENV_VAR]))
    return DEMO_DEFAULTS
