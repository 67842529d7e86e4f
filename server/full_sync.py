"""How many full pulls (snapshots) the server serves at once, across all its worker processes.

Every terminal of a region asks for a full pull at the same time of night: hundreds of snapshots at
once would push every sync's latency up for minutes. A full pull therefore takes one of
`CANTEEN_FULL_SYNC_SLOTS` slots for the length of its transaction; with none free the terminal is
answered 503 with ``Retry-After`` (seconds, with jitter so the refused ones do not come back together)
and the error name ``busy``, which its sync client honours by coming back then, without counting an
outage. Incremental pulls and pushes never take a slot.

The slots are PostgreSQL transaction-level advisory locks, so they are shared by all the workers and
freed when the pull's transaction ends, whether it commits or fails. SQLite (one small server) always
admits.
"""

from __future__ import annotations

import math
import random

from sqlalchemy import Connection, text

LOCK_CLASS = 0x63616E74  # "cant": the advisory lock space of the full-pull slots (the slot is the second key)
BUSY = "busy"  # the error name of the refusal, which the terminal's sync client recognises


class FullSyncBusy(Exception):
    """Every full-pull slot is taken: come back in `retry_after_s` seconds."""

    def __init__(self, retry_after_s: int) -> None:
        super().__init__(retry_after_s)
        self.retry_after_s = retry_after_s

    @property
    def message(self) -> str:
        return (f"сервер занят полной загрузкой данных других терминалов; повторите через {self.retry_after_s} с "
                "(данные терминала остаются прежними до повтора)")


def is_full(full: bool, cursor: object) -> bool:
    """A pull answered with a snapshot: asked for in full, or without a cursor (a fresh or reset store)."""
    return full or not cursor


def take_slot(conn: Connection, slots: int, retry_s: float) -> None:
    """Take a full-pull slot for the rest of `conn`'s transaction, or raise FullSyncBusy."""
    if slots <= 0 or conn.dialect.name != "postgresql":
        return
    first = random.randrange(slots)  # start anywhere: fewer tries while most slots are taken
    for k in range(slots):
        if conn.execute(text("SELECT pg_try_advisory_xact_lock(:c, :s)"),
                        {"c": LOCK_CLASS, "s": (first + k) % slots}).scalar():
            return
    raise FullSyncBusy(max(1, math.ceil(retry_s + random.uniform(0, retry_s))))
