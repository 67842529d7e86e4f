"""`canteen sync ...`: sync a terminal store by hand, show its sync status, reset it."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import NoReturn

import click
from sqlalchemy import Engine, select

from pos.models import Rejected
from pos.store import StoreError, make_engine
from sync.config import ConfigError, SyncFile, load_sync_file


def _die(message: str) -> NoReturn:
    click.echo(f"ОШИБКА: {message}", err=True)
    sys.exit(1)


def _load(config_path: str | None) -> SyncFile | None:
    if not config_path:
        return None
    try:
        return load_sync_file(config_path)
    except ConfigError as exc:
        _die(str(exc))


def _engine(db: Path | None, config: SyncFile | None) -> Engine:
    path = db or (config.db if config else None)
    if path is None:
        _die("укажите базу терминала: --db ФАЙЛ (или --config с ключом db в файле настроек)")
    try:
        return make_engine(path)
    except StoreError as exc:
        _die(str(exc))


def _local(moment: datetime | None, tz: tzinfo | None) -> str:
    """dd.mm.yyyy HH:MM in the school's zone (the OS's before the first sync), or a dash."""
    if moment is None:
        return "—"
    if moment.tzinfo is None:  # naive values in the store are UTC
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(tz).strftime("%d.%m.%Y %H:%M")


db_option = click.option("--db", type=click.Path(dir_okay=False, path_type=Path), default=None,
                         help="база терминала")
config_option = click.option("--config", "config_path", type=click.Path(exists=True, dir_okay=False), default=None,
                             help="файл настроек терминала (ключ db и таблица [sync])")


@click.group()
def sync() -> None:
    """Синхронизация терминала с сервером."""


@sync.command("now")
@db_option
@click.option("--server", "server_url", default=None, help="адрес сервера")
@click.option("--token", default=None, help="токен терминала")
@config_option
@click.option("--full", is_flag=True, help="загрузить данные школы полностью")
def now(db: Path | None, server_url: str | None, token: str | None, config_path: str | None, full: bool) -> None:
    """Синхронизировать сейчас: отправить журнал, получить данные школы."""
    from sync.client import SyncClient

    config = _load(config_path)
    url = server_url or (config.sync.server_url if config else None)
    secret = token or (config.sync.token if config else None)
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
@db_option
@config_option
def status(db: Path | None, config_path: str | None) -> None:
    """Состояние синхронизации и отклонённые сервером события (время — школьное)."""
    from sync.status import read_status, school_timezone

    engine = _engine(db, _load(config_path))
    with engine.connect() as conn:
        st = read_status(conn)
        tz = school_timezone(conn)
        rejected = conn.execute(select(Rejected).order_by(Rejected.seq)).all()
    click.echo(f"Сервер: {st.server_url or '—'}; {'на связи' if st.online else 'нет связи'}"
               + (f" с {_local(st.offline_since, tz)}" if st.offline_since else ""))
    click.echo(f"Последняя удачная синхронизация: {_local(st.last_ok_at, tz)}; данные на {_local(st.data_as_of, tz)}"
               f"{' (устарели)' if st.stale else ''}")
    click.echo(f"В очереди: {st.waiting}; отклонено сервером: {st.rejected}")
    if st.drift_s is not None:
        click.echo(f"Часы терминала: {st.drift_s:+.1f} с от сервера{' — проверьте время!' if st.clock_trouble else ''}")
    for alarm in st.alarms:
        click.echo(f"ВНИМАНИЕ: {alarm}")
    if st.last_error:
        click.echo(f"Ошибка: {st.last_error}")
    for r in rejected:
        click.echo(f"  отклонено #{r.seq} {r.event_id} ({_local(r.at, tz)}): {r.reason} — {r.message}")


@sync.command("reset")
@db_option
@config_option
def reset(db: Path | None, config_path: str | None) -> None:
    """Забыть данные школы и курсор (перед перерегистрацией); нельзя, пока есть неотправленные события."""
    from sync.client import SyncFailure, reset_store

    try:
        reset_store(_engine(db, _load(config_path)))
    except SyncFailure as exc:
        _die(str(exc))
    click.echo("Данные школы на терминале сброшены; при следующей синхронизации загрузятся заново.")


@sync.command("requeue")
@db_option
@config_option
def requeue(db: Path | None, config_path: str | None) -> None:
    """Вернуть отклонённые сервером события в очередь отправки (когда причина устранена)."""
    from sync.client import requeue_rejected

    count = requeue_rejected(_engine(db, _load(config_path)))
    click.echo(f"Возвращено в очередь: {count} событий; отправятся при следующей синхронизации.")
