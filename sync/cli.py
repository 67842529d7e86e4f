"""`canteen sync ...`: sync a terminal store by hand, show its sync status, reset it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy import Engine, select

from pos.models import Rejected
from pos.store import StoreError, make_engine
from sync.config import ConfigError, SyncConfig


def _die(message: str) -> NoReturn:
    click.echo(f"ОШИБКА: {message}", err=True)
    sys.exit(1)


def _engine(db: Path | None, config: SyncConfig | None) -> Engine:
    path = db or (Path(config.db) if config and config.db else None)
    if path is None:
        _die("укажите базу терминала: --db ФАЙЛ (или [store] path в конфигурации)")
    try:
        return make_engine(path)
    except StoreError as exc:
        _die(str(exc))


@click.group()
def sync() -> None:
    """Синхронизация терминала с сервером."""


@sync.command("now")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None, help="база терминала")
@click.option("--server", "server_url", default=None, help="адрес сервера")
@click.option("--token", default=None, help="токен терминала")
@click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
              help="файл конфигурации терминала с таблицей [sync]")
@click.option("--full", is_flag=True, help="загрузить данные школы полностью")
def now(db: Path | None, server_url: str | None, token: str | None, config_path: str | None, full: bool) -> None:
    """Синхронизировать сейчас: отправить журнал, получить данные школы."""
    from sync.client import SyncClient

    config = None
    if config_path:
        try:
            config = SyncConfig.load(config_path)
        except ConfigError as exc:
            _die(str(exc))
    url = server_url or (config.server_url if config else None)
    secret = token or (config.token if config else None)
    if not url or not secret:
        _die("нужны --server и --token (или --config)")
    engine = _engine(db, config)
    with SyncClient(engine, url, secret) as client:
        result = client.sync_once(progress=lambda text: click.echo(f"… {text}"), full=full)
    drift = f", расхождение часов {result.drift_s:+.1f} с" if result.drift_s is not None else ""
    click.echo(f"Отправлено {result.pushed}, отклонено {result.rejected}, в очереди {result.waiting}; "
               f"получено записей {result.pulled}{drift}.")
    if not result.ok:
        _die(result.error)


@sync.command("status")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), required=True)
def status(db: Path) -> None:
    """Состояние синхронизации и отклонённые сервером события."""
    from sync.status import read_status

    engine = _engine(db, None)
    with engine.connect() as conn:
        st = read_status(conn)
        rejected = conn.execute(select(Rejected).order_by(Rejected.seq)).all()
    click.echo(f"Сервер: {st.server_url or '—'}; {'на связи' if st.online else 'нет связи'}")
    click.echo(f"Последняя удачная синхронизация: {st.last_ok_at or '—'}; данные на {st.data_as_of or '—'}"
               f"{' (устарели)' if st.stale else ''}")
    click.echo(f"В очереди: {st.waiting}; отклонено сервером: {st.rejected}")
    if st.drift_s is not None:
        click.echo(f"Часы терминала: {st.drift_s:+.1f} с от сервера{' — проверьте время!' if st.clock_trouble else ''}")
    if st.last_error:
        click.echo(f"Ошибка: {st.last_error}")
    for r in rejected:
        click.echo(f"  отклонено #{r.seq} {r.event_id}: {r.reason} — {r.message}")


@sync.command("reset")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), required=True)
def reset(db: Path) -> None:
    """Забыть данные школы и курсор (перед перерегистрацией); нельзя, пока есть неотправленные события."""
    from sync.client import SyncFailure, reset_store

    try:
        reset_store(_engine(db, None))
    except SyncFailure as exc:
        _die(str(exc))
    click.echo("Данные школы на терминале сброшены; при следующей синхронизации загрузятся заново.")


@sync.command("requeue")
@click.option("--db", type=click.Path(dir_okay=False, path_type=Path), required=True)
def requeue(db: Path) -> None:
    """Вернуть отклонённые сервером события в очередь отправки (когда причина устранена)."""
    from sync.client import requeue_rejected

    count = requeue_rejected(_engine(db, None))
    click.echo(f"Возвращено в очередь: {count} событий; отправятся при следующей синхронизации.")
