"""End to end: a real server process, two enrolled terminals of one school, serving online and offline.

The scenario makes exactly these mismatches, and the report must find exactly them:
s2 served at both windows (one offline) -> served twice; s5 served by staff override without an
order -> served not ordered + override; s3's benefit withdrawn on the server while window B was
offline and B served it free -> without entitlement; s6 ordered and never came -> ordered not served.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from pos.counter import Counter
from pos.decide import Reason
from pos.domain import Meal
from pos.models import Outbox, Served, Student
from pos.store import make_engine
from server.db import make_server_engine
from server.history import school_year_of
from server.importer import import_rows
from server.models import Event
from server.models import Student as ServerStudent
from sync.client import SyncClient
from sync.status import read_status
from tests.server.kit import enroll, make_admin, seed_school, server_process

pytestmark = pytest.mark.slow


def test_two_windows_one_offline_mismatch_report_is_exact(db_url: str, tmp_path: Path) -> None:
    server_db = make_server_engine(db_url)
    day = seed_school(server_db)["day"]
    _, token_a = enroll(server_db)
    _, token_b = enroll(server_db)
    make_admin(server_db)
    with server_process(db_url) as (url, _proc):
        a_store, b_store = make_engine(tmp_path / "a.db"), make_engine(tmp_path / "b.db")
        a, b = SyncClient(a_store, url, token_a), SyncClient(b_store, url, token_b)
        assert a.sync_once().ok and b.sync_once().ok
        win_a, win_b = Counter(a_store), Counter(b_store)

        assert win_a.tap_text("EM:0000000001", meal=Meal.BREAKFAST).served  # s1, free
        paid = win_a.tap_text("EM:0000000004", meal=Meal.BREAKFAST)  # s4 pays 75 ₽
        assert paid.served and paid.paid_kopecks == 7500
        assert a.sync_once().ok and b.sync_once().ok
        again = win_b.tap_text("EM:0000000001", meal=Meal.BREAKFAST)  # known at B within a sync
        assert not again.served and again.reason is Reason.ALREADY_SERVED

        # B goes offline; meanwhile s3's benefit is withdrawn on the server and A serves s2.
        with server_db.begin() as conn:
            import_rows(conn, "sch1", "benefits", [{"student_id": "s3", "category": "low_income",
                                                    "order_no": "01-04-1", "order_date": "2020-09-01",
                                                    "ends": "2020-12-31"}])
        assert win_a.tap_text("EM:0000000002", meal=Meal.BREAKFAST).served
        assert a.sync_once().ok
        assert win_b.tap_text("EM:0000000002", meal=Meal.BREAKFAST).served  # duplicate: B does not know
        assert win_b.tap_text("EM:0000000003", meal=Meal.BREAKFAST).free_kopecks > 0  # stale benefit
        refused = win_b.tap_text("EM:0000000005", meal=Meal.BREAKFAST)
        assert refused.reason is Reason.NOT_ORDERED
        assert win_b.override(refused, reason="пришёл голодный", staff="Повар").served

        assert b.sync_once().ok and a.sync_once().ok
        for store in (a_store, b_store):
            with store.connect() as conn:
                assert conn.execute(select(func.count()).select_from(Outbox)).scalar() == 0
                assert read_status(conn).online
        with a_store.connect() as conn:  # A learnt B's serves, and s4's balance agrees with the server
            assert conn.execute(select(func.count()).select_from(Served)).scalar() == 5
            local = conn.execute(select(Student.balance_kopecks).where(Student.id == "s4")).scalar()
        with server_db.connect() as conn:
            assert local == conn.execute(select(ServerStudent.balance_kopecks)
                                         .where(ServerStudent.id == "s4")).scalar() == 50000 - 7500
            assert conn.execute(select(func.count()).select_from(Event)).scalar() == 8  # refusals too
            basis = set(conn.execute(select(Event.student_id, Event.free_category, Event.free_rule).where(
                Event.kind == "serve", Event.free_kopecks > 0)).tuples())
        # what made each meal free, as the window decided it (s3's benefit was withdrawn after: still kept)
        policy_id = f"nazarovo-{school_year_of(day)[:4]}"  # the seeded school's policy of the day's year
        assert basis == {("s1", "", f"{policy_id}#1"), ("s2", "", f"{policy_id}#1"),
                         ("s3", "low_income", f"{policy_id}#7")}

        login = httpx.post(f"{url}/api/auth/login", json={"login": "admin", "password": "secret-pass"})
        auth = {"Authorization": f"Bearer {login.json()['token']}"}
        period = {"from": day.isoformat(), "to": day.isoformat()}
        report = httpx.get(f"{url}/api/schools/sch1/mismatches", params=period, headers=auth).json()
        found = sorted((i["student_id"], i["kind"], i["count"], i["kopecks"]) for i in report["items"])
        assert found == [("s2", "served_twice", 1, 4858), ("s3", "without_entitlement", 1, 5649),
                         ("s5", "override", 1, 7500), ("s5", "served_not_ordered", 1, 7500),
                         ("s6", "ordered_not_served", 1, 4858)]
        assert report["totals"]["served_twice"] == {"count": 1, "kopecks": 4858}
        by_class = {c["class_name"]: c["counts"] for c in report["classes"]}
        assert by_class["1А"]["served_twice"] == 1 and by_class["5А"]["override"] == 1
        csv = httpx.get(f"{url}/api/schools/sch1/mismatches", params={**period, "format": "csv"}, headers=auth)
        assert csv.status_code == 200 and "выдано повторно" in csv.text and csv.text.count("\r\n") == 6
    server_db.dispose()
