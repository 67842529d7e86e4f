"""The sync screen (F8): the link to the server, a "sync now" key, and the events the server refused.

Staff see here what the status line can only count: which serves the server did not accept and why,
so they can tell the administrator. The events stay in the journal; putting them back in the queue is
the administrator's `canteen sync requeue` once the cause is fixed.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Static

from pos.ledger import EventKind
from pos.queries import rejected_events
from terminal.syncstatus import read_sync_status
from terminal.widgets.status import local_time

KIND_TITLES = {EventKind.SERVE: "выдача", EventKind.REFUSE: "отказ", EventKind.OVERRIDE: "выдача вопреки",
               EventKind.REVERSAL: "отмена"}


class SyncScreen(Screen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f8", "close", "Назад к раздаче"),
        Binding("s,ы,enter", "sync_now", "Синхронизировать сейчас"),
    ]

    def __init__(self, engine: Engine, *, configured: bool, tz: ZoneInfo, now: Callable[[], datetime],
                 sync_now: Callable[[], bool]) -> None:
        super().__init__()
        self.engine, self.configured, self.tz, self.now, self.sync_now = engine, configured, tz, now, sync_now

    def compose(self) -> ComposeResult:
        yield Static("Связь с сервером", id="sync-title", classes="dialog-title")
        yield Static("", id="sync-state")
        yield Static("", id="rejected-title")
        table: DataTable[str] = DataTable(id="rejected", cursor_type="row", zebra_stripes=True)
        yield table
        yield Footer(compact=True, show_command_palette=False)

    def on_mount(self) -> None:
        table = self.query_one(DataTable)
        for label in ("Время", "Ученик", "Событие", "Причина отказа сервера"):
            table.add_column(label)
        self.refresh_view()

    def refresh_view(self) -> None:
        with self.engine.connect() as conn:
            view = read_sync_status(conn, configured=self.configured, now=self.now())
            rejected = rejected_events(conn)
        st = view.status
        if not self.configured:
            lines = ["Сервер не настроен: терминал работает без связи, журнал хранится на нём."]
        else:
            lines = [f"Сервер: {st.server_url or '—'}",
                     "Связь: есть" if st.online else f"Связи нет с {local_time(st.offline_since, self.tz)}"
                     + (f" ({st.last_error})" if st.last_error else ""),
                     f"Последняя успешная синхронизация: {local_time(st.last_ok_at, self.tz)}",
                     f"Данные школы на: {local_time(st.data_as_of, self.tz)}"]
        lines.append(f"Ждут отправки: {st.waiting}")
        self.query_one("#sync-state", Static).update("\n".join(lines))
        self.query_one("#rejected-title", Static).update(
            f"Отклонены сервером: {len(rejected)} — сообщите администратору" if rejected
            else "Отклонённых сервером записей нет")
        table = self.query_one(DataTable)
        table.clear()
        for r in rejected:
            what = KIND_TITLES.get(EventKind(r.kind), r.kind) + (f", {r.meal.ru}" if r.meal else "")
            table.add_row(local_time(r.at_utc.replace(tzinfo=UTC), self.tz), r.student_name, what, r.message)

    def action_sync_now(self) -> None:
        if self.sync_now():
            self.notify("Синхронизация запущена")
        else:
            self.notify("Сервер не настроен: синхронизировать не с чем", severity="warning")

    def action_close(self) -> None:
        self.dismiss(None)
