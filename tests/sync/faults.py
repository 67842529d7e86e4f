"""Fault tools for sync tests: a loopback TCP proxy that can cut a response, and a filled journal."""

from __future__ import annotations

import contextlib
import socket
import threading
import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import Engine, insert

from pos.models import Event, Outbox


class CuttingProxy:
    """Forwards 127.0.0.1:port to the server; with `cut_after` set, closes each answer after that many bytes."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.cut_after: int | None = None
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self.listener.getsockname()[1]
        self._stop = False
        threading.Thread(target=self._accept, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def close(self) -> None:
        self._stop = True
        self.listener.close()

    def _accept(self) -> None:
        while not self._stop:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            threading.Thread(target=self._pipe, args=(client, upstream, None), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, self.cut_after), daemon=True).start()

    @staticmethod
    def _pipe(src: socket.socket, dst: socket.socket, limit: int | None) -> None:
        sent = 0
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                if limit is not None and sent + len(data) >= limit:
                    dst.sendall(data[: max(0, limit - sent)])
                    break
                dst.sendall(data)
                sent += len(data)
        except OSError:
            pass
        finally:
            for s in (src, dst):
                with contextlib.suppress(OSError):
                    s.shutdown(socket.SHUT_RDWR)
                s.close()


def fill_journal(store: Engine, terminal_id: str, count: int, *, start: date, days: int = 1,
                 first_seq: int = 1) -> list[str]:
    """`count` serve events spread over `days` school days, as the counter writes them (event + outbox)."""
    ids, events, outbox = [], [], []
    for n in range(count):
        day = start + timedelta(days=n % days)
        event_id = uuid.uuid4().hex
        seq = first_seq + n
        ids.append(event_id)
        events.append({"id": event_id, "terminal_id": terminal_id, "seq": seq, "kind": "serve",
                       "at_utc": datetime.combine(day, datetime.min.time()) + timedelta(hours=1, seconds=n % 3600),
                       "local_date": day, "student_id": f"s{n % 6 + 1}", "card_uid": f"EM:00000000{n % 6 + 1:02d}",
                       "meal": "breakfast", "outcome": "serve_free", "reason": "ok", "message": "Бесплатно: завтрак",
                       "paid_kopecks": 0, "free_kopecks": 4858, "budget_line": "01100L3040", "ref_event_id": None,
                       "source": "card", "staff": "", "note": "", "flags": ""})
        outbox.append({"seq": seq, "event_id": event_id})
    with store.begin() as conn:
        conn.execute(insert(Event), events)
        conn.execute(insert(Outbox), outbox)
    return ids


def utc_now() -> datetime:
    return datetime.now(UTC)
