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
    interval_s = 180
    nightly_at = "02:30"
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from drivers.config import ReaderConfig, ReaderConfigError
from sync.config import ConfigError as SyncConfigError
from sync.config import SyncConfig as SyncConfig  # re-exported: the terminal's [sync] settings
from sync.config import parse_sync

ENV_VAR = "CANTEEN_CONFIG"
DEFAULT_DB = Path("var") / "demo.db"


class ConfigError(ValueError):
    """The config file is missing, unreadable or wrong; the message is Russian and names the key."""


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
    """The ``[sync]`` table, parsed by `sync.config.parse_sync` (shared with ``canteen sync --config``)."""
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
        try:
            values["sync"] = parse_sync(data["sync"], where)
        except SyncConfigError as exc:
            raise ConfigError(str(exc)) from None
    return TerminalConfig(**values)


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
