"""``canteen terminal``: open the serving window with the terminal's config file (or the demo)."""

from __future__ import annotations

import logging
import sys
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import click

from pos.store import StoreError
from terminal.config import ConfigError, TerminalConfig, resolve_config


@click.command()
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="файл настроек терминала (TOML); иначе $CANTEEN_CONFIG, иначе демо")
@click.option("--demo", is_flag=True, help="демо-школа с имитатором считывателя")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="файл базы терминала (вместо ключа db)")
@click.option("--staff", default=None, help="кто на раздаче")
@click.option("--at", "at", type=click.DateTime(["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M"]), default=None,
              help="демо: начать с этого местного времени, «2026-11-24 08:40»")
@click.option("--fresh", is_flag=True, help="демо: пересоздать демо-школу")
def terminal(config_path: Path | None, demo: bool, db: Path | None, staff: str | None, at: datetime | None,
             fresh: bool) -> None:
    """Терминал раздачи: экран у окна выдачи."""
    from terminal.app import CanteenApp
    from terminal.readers import open_reader
    from terminal.session import open_demo, open_terminal

    try:
        config = resolve_config(config_path)
    except ConfigError as exc:
        click.echo(f"ОШИБКА: {exc}", err=True)
        sys.exit(2)
    config = session_config(config, demo=demo, db=db, staff=staff)
    if (at or fresh) and not config.demo:
        click.echo("ОШИБКА: --at и --fresh только для демо (--demo)", err=True)
        sys.exit(2)
    logging.basicConfig(filename=str(config.db.parent / "terminal.log") if config.db.parent.exists() else None,
                        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        session = open_demo(config, at=at, fresh=fresh) if config.demo else open_terminal(config)
    except StoreError as exc:
        click.echo(f"ОШИБКА: {exc}", err=True)
        sys.exit(1)
    reader, problem = open_reader(config.reader)
    app = CanteenApp(counter=session.counter, read_engine=session.read_engine, clock=session.clock, config=config,
                     reader=reader, reader_error=problem)
    app.run()


def session_config(config: TerminalConfig, *, demo: bool, db: Path | None, staff: str | None) -> TerminalConfig:
    """The config with the command line's options applied.

    `--demo` never opens the real terminal's store named in the config: the demo has a file of its own.
    """
    from pos.demo import default_db

    demo_db = default_db() if demo and not config.demo else config.db
    return replace(config, demo=config.demo or demo, db=db or demo_db,
                   staff=staff if staff is not None else config.staff)
