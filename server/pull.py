"""Pull: what a terminal needs for serving, as a snapshot or as the changes since its cursor.

The cursor is ``"<rev>:<horizon>"``: the school's rev the terminal has applied and the last
school day whose orders and prices it holds. A delta is every row of the school with a rev above
the cursor (an index range scan on (school_id, rev), so its cost does not depend on the size of
the server) plus the orders and prices of days that came into the window since. Only what the
decision needs leaves the server: no documents, no incomes, birth dates only where the region
prices meals by age.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import ColumnElement, Connection, and_, insert, or_, select, update

from pos.ledger import MONEY_KINDS, Flag, cancelled, counts_as_served, split_flags
from pos.policy import parse_policy
from server.accounts import utcnow
from server.calendar import load_calendar
from server.models import (
    REFERENCE_MODELS,
    Event,
    School,
    SyncLog,
    Terminal,
    Tombstone,
)
from sync.wire import PULL_TABLES, make_cursor, parse_cursor, utc_iso

ENTITLEMENT_LOOKBACK = timedelta(days=60)  # lapsed benefits still explain a refusal on screen

COLUMNS = PULL_TABLES
MODELS: dict[str, Any] = REFERENCE_MODELS


def school_today(timezone: str, now: datetime) -> date:
    return now.astimezone(ZoneInfo(timezone)).date()


def next_school_day(conn: Connection, school: Any, today: date) -> date:
    """The horizon of orders and prices sent: the school's next school day (`pos.calendar`)."""
    calendar = load_calendar(conn, school.id, today, today + timedelta(days=60))
    return calendar.next_school_day(today) or today + timedelta(days=1)


def _json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, date) else value


def _rows(conn: Connection, name: str, where: ColumnElement[bool], hide_birth: bool) -> list[dict[str, Any]]:
    model = MODELS[name]
    columns = [getattr(model, c) for c in COLUMNS[name]]
    rows = [{k: _json(v) for k, v in row._mapping.items()} for row in conn.execute(select(*columns).where(where))]
    if name == "students" and hide_birth:
        for row in rows:
            row["birth_date"] = None
    return rows


def pull(conn: Connection, terminal_id: str, school_id: str, *, cursor: Any, outbox_from: int | None,
         full: bool, now: datetime | None = None, drift_s: float | None = None) -> dict[str, Any]:
    """The pull answer for one terminal (see `sync.wire` for the shape)."""
    now = now or datetime.now(UTC)
    school = conn.execute(select(School).where(School.id == school_id)).one()
    today = school_today(school.timezone, now)
    horizon = next_school_day(conn, school, today)
    parsed = None if full else parse_cursor(cursor)
    if parsed is not None and parsed[0] > school.rev:
        parsed = None  # the server was restored from an older backup: start over
    snapshot = parsed is None
    since = parsed[0] if parsed else 0
    old_horizon = (parsed[1] if parsed else None) or today
    hide_birth = not parse_policy(school.policy_text, f"policy:{school_id}").needs_age
    body: dict[str, Any] = {"server_time": utc_iso(now), "snapshot": snapshot, "terminal_id": terminal_id,
                            "today": today.isoformat(), "horizon": horizon.isoformat()}
    if snapshot or school.settings_rev > since:
        body["school"] = {"school_id": school.id, "school_name": school.name, "timezone": school.timezone,
                          "week_days": school.week_days, "window_early_min": school.window_early_min,
                          "window_late_min": school.window_late_min,
                          "refuse_outside_window": school.refuse_outside_window, "policy": school.policy_text,
                          "year_starts": school.year_starts.isoformat() if school.year_starts else "",
                          "year_ends": school.year_ends.isoformat() if school.year_ends else "",
                          "order_deadline": school.order_deadline}
    for name, model in MODELS.items():
        where: ColumnElement[bool] = model.school_id == school_id
        if not snapshot:
            where = and_(where, model.rev > since)
        if name in ("orders", "menu_prices"):
            window = and_(model.day >= today, model.day <= horizon)
            if snapshot:
                where = and_(where, window)
            else:  # changed rows in the window, and the days that just entered it
                where = and_(model.school_id == school_id, window,
                             or_(model.rev > since, model.day > old_horizon))
        elif name in ("holidays", "class_days_off"):
            where = and_(where, model.day >= today)
        elif name == "entitlements":
            where = and_(where, or_(model.ends.is_(None), model.ends >= today - ENTITLEMENT_LOOKBACK))
        elif name in ("students", "staff") and snapshot:
            where = and_(where, model.active.is_(True))
        body[name] = _rows(conn, name, where, hide_birth)
    body["deleted"] = {}
    if not snapshot:
        for table, key in conn.execute(select(Tombstone.table, Tombstone.key).where(
                Tombstone.school_id == school_id, Tombstone.rev > since).order_by(Tombstone.rev)):
            body["deleted"].setdefault(table, []).append(json.loads(key))
    terminal_flags = split_flags(conn.execute(select(Terminal.flags).where(Terminal.id == terminal_id)).scalar() or "")
    body["terminal_flags"] = sorted(terminal_flags)
    body["served"] = _served(conn, school_id, today, since, snapshot, terminal_id, Flag.CLONE in terminal_flags)
    body["acked"] = [] if outbox_from is None else list(conn.execute(
        select(Event.id).where(Event.school_id == school_id, Event.terminal_id == terminal_id,
                               Event.seq >= outbox_from)).scalars())
    body["cursor"] = make_cursor(school.rev, horizon)
    sent = sum(len(v) for v in body.values() if isinstance(v, list))
    at = utcnow()
    conn.execute(update(Terminal).where(Terminal.id == terminal_id)
                 .values(last_seen_at=at, last_pull_at=at, clock_drift_s=drift_s))
    conn.execute(insert(SyncLog).values(terminal_id=terminal_id, at=at, kind="pull", drift_s=drift_s, events=sent))
    return body


def _served(conn: Connection, school_id: str, today: date, since: int, snapshot: bool,
            terminal_id: str, clone: bool = False) -> list[dict[str, Any]]:
    """Meals served today at any window of the school (and their reversals), so no window serves twice.

    A delta leaves out the terminal's own events: its counter wrote them into its `served` table in
    the same transaction as the journal, and sending each pushed event straight back would double
    the traffic of every sync. A snapshot (a fresh or reset store) carries them all, and every delta to
    a `clone` terminal (one token on two devices) carries all of the token's own events of today, also
    those the other device pushed before the clone showed: each device must learn the other's serves
    (the client stores the ones it already has as no-ops)."""
    columns = (Event.id, Event.kind, Event.terminal_id, Event.student_id, Event.meal, Event.at_utc,
               Event.paid_kopecks, Event.free_kopecks, Event.ref_event_id)
    where = and_(Event.school_id == school_id, Event.local_date == today,
                 Event.kind.in_(MONEY_KINDS), Event.student_id.is_not(None))
    if not snapshot and clone:  # all of the token's own today, whenever the other device pushed them
        where = and_(where, or_(Event.rev > since, Event.terminal_id == terminal_id))
    elif not snapshot:
        where = and_(where, Event.rev > since, Event.terminal_id != terminal_id)
    rows = conn.execute(select(*columns).where(where).order_by(Event.rev)).all()
    if snapshot:  # a snapshot carries the net result only
        reversed_ids = cancelled((r.id, r.kind, r.ref_event_id) for r in rows)
        rows = [r for r in rows if counts_as_served(r.kind) and r.id not in reversed_ids]
    return [{"id": r.id, "kind": r.kind, "terminal_id": r.terminal_id, "student_id": r.student_id, "meal": r.meal,
             "local_date": today.isoformat(), "at_utc": utc_iso(r.at_utc), "paid_kopecks": r.paid_kopecks,
             "free_kopecks": r.free_kopecks, "ref_event_id": r.ref_event_id} for r in rows]
