"""The review queue (SQLite and PostgreSQL): items from served-vs-ordered and from the flags on events,
resolutions append-only and reopened by new data, no future days, filters, counts, Russian export."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from flask.testing import FlaskClient
from openpyxl import load_workbook
from sqlalchemy import Engine, func, select, update

from pos.cli import main
from pos.ledger import Flag, join_flags
from server.models import ReviewResolution, Student
from server.office.reviews import (
    Filters,
    Key,
    Queue,
    ReviewError,
    history,
    queue,
    resolve,
    to_csv,
    to_xlsx,
)
from tests.server.kit import make_admin, school_today, seed_school
from tests.server.test_api import bearer
from tests.server.test_mismatches import DAY, event, store

AFTER = DAY + timedelta(days=3)  # "today" for most tests: DAY is over


def q(engine: Engine, status: str = "open", today: date = AFTER, **kw: object) -> Queue:
    with engine.connect() as conn:
        return queue(conn, "sch1", Filters(DAY, DAY, status=status, **kw), today=today)  # type: ignore[arg-type]


def mine(queue_: Queue, student: str = "s1") -> list[tuple[str, str, int, int]]:
    return [(e.item.kind, e.status, e.item.count, e.item.kopecks) for e in queue_.entries if e.item.subject == student]


def settle(engine: Engine, key: Key, seen: str | None, reason: str = "serving_error", comment: str = "",
           who: str = "admin") -> None:
    with engine.begin() as conn:
        resolve(conn, "sch1", [(key, seen)], reason=reason, comment=comment, who=who, today=AFTER)


def test_a_resolved_item_leaves_the_open_queue_and_reopens_when_a_new_serve_changes_it(engine: Engine) -> None:
    seed_school(engine, day=DAY)
    store(engine, event(1), event(2, terminal_id="sch1-T2"))
    (entry,) = [e for e in q(engine).entries if e.item.subject == "s1"]
    assert (entry.item.kind, entry.status) == ("served_twice", "open")
    settle(engine, entry.key, entry.fingerprint, comment="двое окон без связи")
    assert mine(q(engine)) == []
    assert mine(q(engine, "resolved")) == [("served_twice", "resolved", 1, 4858)]
    store(engine, event(3, terminal_id="sch1-T3"))  # a third window's copy arrives later
    (again,) = [e for e in q(engine).entries if e.item.subject == "s1"]
    assert (again.status, again.item.count) == ("reopened", 2)
    assert again.resolution is not None and again.resolution.comment == "двое окон без связи"


def test_resolutions_are_append_only_and_the_latest_is_in_force(engine: Engine) -> None:
    seed_school(engine, day=DAY)
    store(engine, event(1), event(2, terminal_id="sch1-T2"))
    (entry,) = [e for e in q(engine).entries if e.item.subject == "s1"]
    settle(engine, entry.key, entry.fingerprint, reason="serving_error", who="first")
    settle(engine, entry.key, None, reason="other", comment="повар выдал второй раз по просьбе врача", who="second")
    with engine.connect() as conn:
        done = history(conn, "sch1", entry.key)
        rows = conn.execute(select(func.count()).select_from(ReviewResolution)).scalar()
    assert [(r.reason, r.resolved_by) for r in done] == [("serving_error", "first"), ("other", "second")]
    assert rows == 2
    (now,) = [e for e in q(engine, "resolved").entries if e.item.subject == "s1"]
    assert now.resolution is not None and now.resolution.resolved_by == "second"


def test_days_after_today_never_appear_and_today_is_not_yet_unserved(engine: Engine) -> None:
    seed_school(engine, day=DAY)  # s1..s4, s6 ordered breakfast on DAY and DAY+1
    store(engine, event(1, day=DAY + timedelta(days=1), student_id="s5", outcome="serve_paid", paid_kopecks=7500,
                        free_kopecks=0, budget_line=None))
    with engine.connect() as conn:
        on_day = queue(conn, "sch1", Filters(DAY, DAY + timedelta(days=5)), today=DAY)
        next_day = queue(conn, "sch1", Filters(DAY, DAY + timedelta(days=5)), today=DAY + timedelta(days=1))
    assert on_day.entries == []  # DAY's orders are not judged while DAY lasts; DAY+1 is the future
    assert {(e.item.day, e.item.kind) for e in next_day.entries} == {
        (DAY.isoformat(), "ordered_not_served"), ((DAY + timedelta(days=1)).isoformat(), "served_not_ordered")}


def test_the_flags_on_events_each_make_an_item_with_its_money(engine: Engine) -> None:
    seed_school(engine, day=DAY)
    capped = event(1, free_kopecks=3000, flags=Flag.COPAY_UNPAID.value)  # over the cap, copay 18,58 unpaid
    late = event(2, student_id="s2", server_flags=join_flags((Flag.STALE_DATA, Flag.UNKNOWN_CARD)),
                 flags=Flag.CLOCK_BACK.value)
    back = event(3, "reversal", student_id="s2", outcome="refuse", reason="reversal", free_kopecks=-4858,
                 ref_event_id=late["id"], terminal_id="sch1-T2", server_flags=Flag.FOREIGN_REVERSAL.value)
    stale = event(4, student_id="s6", server_flags=Flag.STALE_DATA.value)
    stranger = event(5, "refuse", student_id=None, card_uid="EM:00000000FF", meal=None, outcome="refuse",
                     reason="unknown_card", free_kopecks=0, budget_line=None, server_flags=Flag.UNKNOWN_CARD.value)
    store(engine, capped, late, back, stale, stranger)
    found = {(e.item.kind, e.item.subject, e.item.kopecks, tuple(e.item.event_ids)) for e in q(engine).entries
             if e.item.kind != "ordered_not_served"}
    # s2's meal was reversed: no unknown-card or stale item for it (nothing at stake), the reversal is kept,
    # and so is the terminal's clock going back (with no money at stake).
    assert found == {(Flag.COPAY_UNPAID, "s1", 1858, (capped["id"],)),
                     (Flag.FOREIGN_REVERSAL, "s2", 4858, (back["id"],)),
                     (Flag.STALE_DATA, "sch1-T1", 4858, (stale["id"],)),
                     (Flag.UNKNOWN_CARD, "sch1-T1", 0, (stranger["id"],)),  # a card to register
                     (Flag.CLOCK_BACK, "sch1-T1", 0, (late["id"],))}


def test_the_clock_going_back_is_an_item_of_the_terminal_even_on_a_refusal(engine: Engine) -> None:
    seed_school(engine, day=DAY)
    store(engine, event(1, "refuse", outcome="refuse", reason="not_ordered", free_kopecks=0, student_id="s5",
                        flags=Flag.CLOCK_BACK.value))
    assert [(e.item.kind, e.key.subject, e.key.meal) for e in q(engine, kinds=frozenset({Flag.CLOCK_BACK})).entries
            ] == [(Flag.CLOCK_BACK, "sch1-T1", "")]


def test_an_item_changed_or_gone_since_shown_is_refused_and_nothing_is_resolved(engine: Engine) -> None:
    seed_school(engine, day=DAY)
    store(engine, event(1), event(2, terminal_id="sch1-T2"))
    entries = q(engine).entries
    twice = next(e for e in entries if e.item.subject == "s1")
    absent = next(e for e in entries if e.item.subject == "s2")
    gone = Key(DAY, "s5", "breakfast", "served_twice")
    for picks, status in (([(absent.key, absent.fingerprint), (twice.key, "0" * 32)], 409),
                          ([(absent.key, absent.fingerprint), (gone, None)], 404)):
        with engine.begin() as conn, pytest.raises(ReviewError) as caught:
            resolve(conn, "sch1", picks, reason="absent", comment="", who="admin", today=AFTER)
        assert caught.value.status == status and "расхождение" in caught.value.message
    assert mine(q(engine, "resolved"), "s2") == []


def test_other_needs_a_comment_and_an_unknown_reason_is_refused(engine: Engine) -> None:
    seed_school(engine, day=DAY)
    (entry, *_rest) = q(engine).entries
    for reason, comment in (("other", "  "), ("отсутствовал", "")):
        with engine.begin() as conn, pytest.raises(ReviewError):
            resolve(conn, "sch1", [(entry.key, None)], reason=reason, comment=comment, who="a", today=AFTER)


def test_filters_by_class_kind_and_status_with_counts_per_kind(engine: Engine) -> None:
    seed_school(engine, day=DAY)  # 1а: s1, s2, s6 ordered; 5а: s3, s4 ordered, s5 not
    store(engine, event(1, student_id="s5", outcome="serve_paid", paid_kopecks=7500, free_kopecks=0,
                        budget_line=None))
    every = q(engine)
    assert every.counts()["ordered_not_served"]["open"] == 5
    assert every.counts()["served_not_ordered"] == {"open": 1, "resolved": 0, "open_kopecks": 7500}
    five = q(engine, class_id="5а")
    assert sorted(e.item.subject for e in five.entries) == ["s3", "s4", "s5"]
    only = q(engine, kinds=frozenset({"served_not_ordered"}))
    assert [e.item.subject for e in only.entries] == ["s5"]
    settle(engine, only.entries[0].key, only.entries[0].fingerprint, reason="order_error")
    after = q(engine)  # the open ones are listed, the counts count every status
    assert after.counts()["served_not_ordered"] == {"open": 0, "resolved": 1, "open_kopecks": 0}
    assert [e.item.subject for e in after.entries] == ["s6", "s1", "s2", "s4", "s3"]  # by day, class, name
    with engine.connect() as conn, pytest.raises(ReviewError):
        queue(conn, "sch1", Filters(DAY, DAY, kinds=frozenset({"nonsense"})), today=AFTER)


def test_the_export_is_russian_and_no_cell_runs_as_a_formula(engine: Engine) -> None:
    seed_school(engine, day=DAY)
    with engine.begin() as conn:
        conn.execute(update(Student).where(Student.id == "s1").values(full_name='=HYPERLINK("http://x","y")'))
    store(engine, event(1), event(2, terminal_id="sch1-T2"))
    entry = next(e for e in q(engine).entries if e.item.subject == "s1")
    with engine.begin() as conn:
        resolve(conn, "sch1", [(entry.key, None)], reason="other", comment="-1+1\x01 @cmd", who="@admin",
                today=AFTER, now=datetime(2026, 3, 12, 2, 5))
    data = q(engine, "all")
    rows = list(csv.reader(io.StringIO(to_csv(data).lstrip("\ufeff")), delimiter=";"))
    assert rows[0][:3] == ["Дата", "Класс", "Код"]
    row = next(r for r in rows if r[2] == "s1")
    assert row[0] == "10.03.2026" and row[3].startswith("'=HYPERLINK") and row[7] == "48,58 ₽"
    assert row[8:] == ["решено", "другое", "'-1+1\x01 @cmd", "'@admin", "12.03.2026 09:05"]  # Krasnoyarsk time
    sheet = load_workbook(io.BytesIO(to_xlsx(data))).active
    assert sheet is not None
    cells = next(r for r in sheet.iter_rows(min_row=2) if r[2].value == "s1")
    assert cells[3].data_type == "s" and str(cells[3].value).startswith("'=HYPERLINK")
    assert cells[0].value == datetime(2026, 3, 10) and cells[0].number_format == "DD.MM.YYYY"
    assert cells[7].value == 48.58 and "₽" in cells[7].number_format
    assert cells[10].value == "'-1+1 @cmd"  # a control character Excel refuses is dropped, not a failure


def admin_token(client: FlaskClient, engine: Engine, school_id: str | None = "sch1", login: str = "zavuch") -> str:
    make_admin(engine, login, school_id=school_id)
    token: str = client.post("/api/auth/login", json={"login": login, "password": "secret-pass"}).json["token"]
    return token


def test_the_api_lists_resolves_and_exports_the_own_schools_queue(client: FlaskClient, engine: Engine) -> None:
    day = school_today() - timedelta(days=1)
    seed_school(engine, day=day)
    seed_school(engine, "sch2", day=day)
    token = admin_token(client, engine)
    url = f"/api/schools/sch1/reviews?from={day:%d.%m.%Y}&to={day.isoformat()}&class=1а"
    listed = client.get(url, headers=bearer(token)).json
    assert {i["student_id"] for i in listed["items"]} == {"s1", "s2", "s6"}
    assert listed["counts"]["ordered_not_served"]["open"] == 3 and "absent" in listed["reasons"]
    first = listed["items"][0]
    pick = {**first["key"], "fingerprint": first["fingerprint"]}
    done = client.post("/api/schools/sch1/reviews/resolve", headers=bearer(token),
                       json={"items": [pick], "reason": "absent", "comment": "болеет"})
    assert done.status_code == 200 and done.json["resolved"][0]["resolution"]["resolved_by"] == "zavuch"
    assert len(client.get(url, headers=bearer(token)).json["items"]) == 2
    history = client.get("/api/schools/sch1/reviews/history", headers=bearer(token), query_string=first["key"]).json
    assert [r["reason_name"] for r in history["resolutions"]] == ["отсутствие ученика"]
    exported = client.get(url.replace("reviews?", "reviews/export?format=csv&status=all&"), headers=bearer(token))
    assert exported.status_code == 200 and f"{day:%d.%m.%Y}" in exported.get_data(as_text=True)
    assert client.get(url.replace("reviews?", "reviews/export?"), headers=bearer(token)).data[:2] == b"PK"
    assert client.get("/api/schools/sch2/reviews", headers=bearer(token)).status_code == 403


@pytest.mark.parametrize(("query", "body"), [
    ("from=2026-13-01", None), ("from=2026-03-10&to=2026-03-01", None), ("status=closed", None),
    ("kind=whatever", None), (None, {"items": "all", "reason": "absent"}),
    (None, {"items": [{"day": "вчера", "subject": "s1", "meal": "breakfast", "kind": "served_twice"}],
            "reason": "absent"}),
    (None, {"items": [{"day": "2026-03-10", "subject": 1}], "reason": "absent"}),
    (None, {"items": [], "reason": "absent"}), (None, {"items": [], "reason": "absent", "comment": None}),
    (None, {"items": [{"day": d, "subject": "s1", "meal": "breakfast", "kind": "served_twice"}
                      for d in ("2000-01-01", "2026-03-10")], "reason": "absent"})])
def test_bad_requests_get_a_russian_400(client: FlaskClient, engine: Engine, query: str | None,
                                        body: dict[str, object] | None) -> None:
    seed_school(engine, day=DAY)
    token = admin_token(client, engine)
    if body is None:
        answer = client.get(f"/api/schools/sch1/reviews?{query}", headers=bearer(token))
    else:
        answer = client.post("/api/schools/sch1/reviews/resolve", headers=bearer(token), json=body)
    assert answer.status_code == 400 and answer.json["message"] and answer.json["error"] == "bad_request"


def test_the_cli_shows_open_items_and_exports_csv_and_xlsx(engine: Engine, db_url: str, tmp_path: Path) -> None:
    day = school_today() - timedelta(days=1)
    seed_school(engine, day=day)
    with engine.connect() as conn:
        first = queue(conn, "sch1", Filters(day, day)).entries[0]
    with engine.begin() as conn:
        resolve(conn, "sch1", [(first.key, first.fingerprint)], reason="absent", comment="", who="zavuch")

    def canteen(*args: str) -> Result:
        return CliRunner().invoke(main, ["server", "reviews", *args], env={"CANTEEN_DATABASE_URL": db_url})

    every, open_ = canteen("sch1"), canteen("sch1", "--open")
    assert every.exit_code == open_.exit_code == 0
    assert "отсутствие ученика, zavuch" in every.output and first.item.student_name in every.output
    assert first.item.student_name not in open_.output and "открыто 4" in open_.output
    csv_out = canteen("sch1", "--format", "csv", "--from", f"{day:%d.%m.%Y}")
    assert csv_out.output.lstrip("\ufeff").startswith("Дата;Класс") and f"{day:%d.%m.%Y}" in csv_out.output
    book = tmp_path / "сверка.xlsx"
    assert canteen("sch1", "--format", "xlsx", "-o", str(book)).exit_code == 0
    assert load_workbook(book).active.max_row == 6  # type: ignore[union-attr]
    missing = canteen("nowhere")
    assert missing.exit_code == 1 and "школа nowhere не найдена" in missing.output
