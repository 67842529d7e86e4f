"""The calendar's JSON API, and a terminal pulling what the office changed: a class's day off arrives, a
removed holiday is deleted, the school year and week reach its settings. On SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from pos import models as pm
from pos.reference import Reference
from pos.store import make_engine
from sync.client import SyncClient
from tests.server.kit import enroll, make_admin, school_today, seed_school
from tests.server.office.test_api import token

CAL = "/api/schools/sch1/calendar"


@pytest.fixture
def admin(client: FlaskClient, engine: Engine) -> dict[str, str]:
    seed_school(engine)
    make_admin(engine, school_id="sch1")
    return token(client)


def test_the_calendar_is_read_and_changed_through_the_api(client: FlaskClient, admin: dict[str, str]) -> None:
    answer = client.put(f"{CAL}/settings", json={"year_starts": "01.09.2026", "year_ends": "2027-05-31",
                                                 "days_per_week": 5, "order_deadline": "9:45"}, headers=admin)
    assert answer.status_code == 200 and answer.json == {
        "year_starts": "2026-09-01", "year_ends": "2027-05-31", "week_days": "1,2,3,4,5", "days_per_week": 5,
        "order_deadline": "09:45"}
    answer = client.post(f"{CAL}/holidays", json={"from": "2026-12-31", "to": "2027-01-11",
                                                  "reason": "Зимние каникулы"}, headers=admin)
    assert answer.status_code == 200 and answer.json == {"days": 12}
    answer = client.post(f"{CAL}/days-off", json={"class_id": "5 А", "from": "2026-12-10", "reason": "Экскурсия"},
                         headers=admin)
    assert answer.status_code == 200 and answer.json == {"days": 1}
    body = client.get(f"{CAL}?from=2026-12-10&to=2027-01-12", headers=admin).json
    assert body["settings"]["order_deadline"] == "09:45" and len(body["days"]) == 34
    days = {d["day"]: d for d in body["days"]}
    assert days["2026-12-10"] == {"day": "2026-12-10", "state": "school", "school_day": True, "reason": "",
                                  "days_off": [{"class_id": "5а", "reason": "Экскурсия"}]}
    assert (days["2026-12-12"]["state"], days["2027-01-05"]["state"], days["2027-01-12"]["state"]) == (
        "weekend", "vacation", "school")
    assert body["holidays"] == [{"from": "2026-12-31", "to": "2027-01-11", "reason": "Зимние каникулы",
                                 "kind": "vacation", "class_id": "", "added_by": ""}]
    assert body["days_off"][0]["added_by"] == "admin"
    assert client.post(f"{CAL}/holidays/remove", json={"from": "2027-01-01", "to": "2027-01-11"},
                       headers=admin).json == {"days": 11}
    assert client.post(f"{CAL}/days-off/remove", json={"class_id": "5а", "from": "2026-12-10"},
                       headers=admin).json == {"days": 1}


@pytest.mark.parametrize("method, path, body, status, message", [
    ("post", "/holidays", {"from": "2026-12-05", "to": "2026-12-01", "reason": "x"}, 422, "раньше начала"),
    ("post", "/holidays", {"from": "послезавтра", "reason": "x"}, 400, "поле from: дата"),
    ("post", "/holidays", {"from": "2026-12-05", "reason": 5}, 400, "поле reason"),
    ("post", "/holidays", {"from": "2026-12-05", "reason": "x", "extra": 1}, 400, "неизвестное поле extra"),
    ("post", "/holidays", {"reason": "x"}, 400, "нет обязательного поля from"),
    ("post", "/holidays", '{"from": "2026-12-05", "reason": "\\ud800"}', 422, "управляющий"),
    ("post", "/holidays", '{"from": "2026-12-05", "reason": "a\\u0000"}', 400, "NUL"),
    ("post", "/days-off", {"class_id": "9я", "from": "2026-12-05", "reason": "x"}, 422, "нет в школе"),
    ("put", "/settings", {"year_starts": "2027-05-31", "year_ends": "2026-09-01"}, 422, "позже первого"),
    ("put", "/settings", {"order_deadline": "полдень"}, 422, "ЧЧ:ММ"),
    ("put", "/settings", {"days_per_week": 4}, 422, "5 или 6"),
    ("get", "?from=2026-01-01&to=2028-01-01", None, 422, "длиннее 366"),
    ("get", "?from=1.1", None, 400, "поле from"),
])
def test_bad_requests_get_a_russian_refusal(client: FlaskClient, admin: dict[str, str], method: str, path: str,
                                            body: object, status: int, message: str) -> None:
    if isinstance(body, str):  # JSON that the test client would not write: escapes of a lone surrogate, NUL
        answer = client.open(f"{CAL}{path}", method=method.upper(), data=body, content_type="application/json",
                             headers=admin)
    else:
        answer = client.open(f"{CAL}{path}", method=method.upper(), json=body, headers=admin)
    assert answer.status_code == status and message in answer.json["message"], answer.json


def test_another_schools_admin_is_refused(client: FlaskClient, engine: Engine, admin: dict[str, str]) -> None:
    seed_school(engine, "sch2")
    make_admin(engine, "other", school_id="sch2")
    other = token(client, "other")
    assert client.get(CAL, headers=other).status_code == 403
    assert client.post(f"{CAL}/holidays", json={"from": "2026-12-05", "reason": "x"}, headers=other).status_code == 403


def test_a_terminal_pulls_a_class_day_off_and_deletes_a_removed_holiday(app: Flask, engine: Engine,
                                                                         client: FlaskClient, admin: dict[str, str],
                                                                         tmp_path: Path) -> None:
    today = school_today()
    tomorrow, later = today + timedelta(days=1), today + timedelta(days=2)
    _, terminal_token = enroll(engine)
    store = make_engine(tmp_path / "terminal.db")
    sync = SyncClient(store, "http://server", terminal_token, transport=httpx.WSGITransport(app=app))
    assert sync.sync_once().ok  # the snapshot, before any change
    year = {"year_starts": (today - timedelta(days=60)).isoformat(),
            "year_ends": (today + timedelta(days=200)).isoformat()}
    assert client.put(f"{CAL}/settings", json=year, headers=admin).status_code == 200
    assert client.post(f"{CAL}/holidays", json={"from": later.isoformat(), "reason": "Карантин"},
                       headers=admin).status_code == 200
    assert client.post(f"{CAL}/days-off", json={"class_id": "1а", "from": tomorrow.isoformat(),
                                                "reason": "Экскурсия"}, headers=admin).status_code == 200
    assert sync.sync_once().ok  # a delta
    with store.connect() as conn:
        calendar = Reference.load(conn).calendar
        assert conn.execute(select(pm.Holiday.day)).scalars().all() == [later]
    assert calendar.why_not(tomorrow, "1а") is not None and "Экскурсия" in (calendar.why_not(tomorrow, "1а") or "")
    assert calendar.is_school_day(tomorrow, "5а") and not calendar.is_school_day(later)
    assert calendar.year_starts == today - timedelta(days=60)  # the settings came with the delta
    assert client.post(f"{CAL}/holidays/remove", json={"from": later.isoformat()}, headers=admin).status_code == 200
    assert client.post(f"{CAL}/days-off/remove", json={"class_id": "1а", "from": tomorrow.isoformat()},
                       headers=admin).status_code == 200
    assert sync.sync_once().ok
    with store.connect() as conn:
        calendar = Reference.load(conn).calendar
        assert conn.execute(select(pm.Holiday.day)).scalars().all() == []
        assert conn.execute(select(pm.ClassDayOff.day)).scalars().all() == []
    assert calendar.is_school_day(later) and calendar.is_school_day(tomorrow, "1а")
    store.dispose()
