"""The status line and the alarm bar above it: reader, network, sync, data age, clock, terminal, staff.

Problems (reader gone, stale data, wrong clock, rejected events) also light the alarm bar, a red
full-width line, because a status line alone is easy to miss in a busy break.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from textual.widgets import Static

from terminal.syncstatus import SyncView


@dataclass(frozen=True)
class ReaderState:
    connected: bool
    detail: str
    since: datetime | None = None


def local_time(at: datetime | None, tz: ZoneInfo) -> str:
    """An aware moment in the school's time, as staff read it: ``23.11.2026 08:41``."""
    return at.astimezone(tz).strftime("%d.%m.%Y %H:%M") if at else "—"



def status_parts(reader: ReaderState, sync: SyncView | None, tz: ZoneInfo, *, terminal_id: str,
                 staff: str) -> tuple[list[str], list[str]]:
    """(status line items, alarms). Pure so it can be tested without a screen."""
    items: list[str] = []
    alarms: list[str] = []
    if reader.connected:
        items.append("Считыватель: подключён")
    else:
        items.append("Считыватель: НЕТ СВЯЗИ")
        alarms.append(f"СЧИТЫВАТЕЛЬ ОТКЛЮЧЁН — {reader.detail}" if reader.detail else "СЧИТЫВАТЕЛЬ ОТКЛЮЧЁН")
    if sync is not None:
        configured, sync_st = sync.configured, sync.status
        if not configured:
            items.append("офлайн (сервер не настроен)")
        elif sync_st.online:
            items.append("онлайн")
        else:
            since = f" с {local_time(sync_st.offline_since, tz)}" if sync_st.offline_since else ""
            error = f" ({sync_st.last_error[:60]})" if sync_st.last_error else ""
            items.append(f"ОФЛАЙН{since}{error}")
        if configured:
            items.append(f"синхр.: {local_time(sync_st.last_ok_at, tz)}")
        items.append(f"к отправке: {sync_st.waiting}")
        if sync_st.rejected:
            items.append(f"отклонено: {sync_st.rejected}")
            alarms.append(f"СЕРВЕР ОТКЛОНИЛ {sync_st.rejected} ЗАП. — вызовите администратора")
        if sync_st.stale:
            as_of = local_time(sync_st.data_as_of, tz) if sync_st.data_as_of else "никогда не загружались"
            items.append("ДАННЫЕ УСТАРЕЛИ")
            alarms.append(f"ДАННЫЕ УСТАРЕЛИ (списки и заявки на {as_of}) — проверьте связь с сервером")
        if sync.alarms:
            items.append("ТОКЕН НА ДВУХ УСТРОЙСТВАХ")
            alarms.extend(a.upper() for a in sync.alarms)
        if sync_st.clock_trouble and sync_st.drift_s is not None:
            items.append("ЧАСЫ НЕВЕРНЫ")
            alarms.append(f"ЧАСЫ ТЕРМИНАЛА РАСХОДЯТСЯ С СЕРВЕРОМ НА {abs(sync_st.drift_s) / 60:.0f} МИН — "
                          "исправьте время")
    items.append(f"терминал {terminal_id}")
    items.append(f"на раздаче: {staff or 'не указан'}")
    return items, alarms


class StatusLine(Static):
    """Repainted only when a part changed: it is refreshed with the board, every few seconds."""

    _text = ""

    def show(self, items: list[str]) -> None:
        text = " │ ".join(items)
        if text != self._text:
            self._text = text
            self.update(text, layout=False)


class AlarmBar(Static):
    """As tall as its alarms, so a change lays the screen out: only when the alarms change (rarely)."""

    _alarms: list[str] | None = None

    def show(self, alarms: list[str]) -> None:
        if alarms == self._alarms:
            return
        self._alarms = list(alarms)
        self.update("\n".join(alarms))
        self.display = bool(alarms)
