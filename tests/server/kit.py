"""Test helpers shared by the server and sync tests: databases, a seeded school, a real server process."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from sqlalchemy import Engine, text

from pos.policy import shipped_policies
from server.accounts import add_admin, add_school, enroll_terminal
from server.importer import import_rows
from server.models import Base

TZ = "Asia/Krasnoyarsk"
PG_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
ROOT = Path(__file__).resolve().parents[2]


def school_today() -> date:
    return datetime.now(UTC).astimezone(ZoneInfo(TZ)).date()


def truncate_all(engine: Engine) -> None:
    names = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


def policy_of_year(day: date) -> str:
    """The Nazarovo policy (the shipped rules and prices) stated for `day`'s school year: the server judges a
    day only by its year's policy, so the seeded school has one for the day it is seeded for."""
    from server.history import school_year_of

    year = school_year_of(day)
    return (shipped_policies()["nazarovo-2021"].read_text(encoding="utf-8")
            .replace('school_year = "2021-2022"', f'school_year = "{year}"', 1)
            .replace('id = "nazarovo-2021"', f'id = "nazarovo-{year[:4]}"', 1))


def seed_school(engine: Engine, school_id: str = "sch1", day: date | None = None) -> dict[str, Any]:
    """A small school of the Nazarovo policy that serves every day of the week.

    s1, s2, s6: grade 1 (breakfast free); s3: grade 5, low income (breakfast free); s4: grade 5, pays,
    balance 500 ₽; s5: grade 5, pays, not ordered. Ordered breakfast for `day` and the next day: s1-s4, s6.
    """
    day = day or school_today()
    policy = policy_of_year(day)
    with engine.begin() as conn:
        add_school(conn, school_id=school_id, name=f"Школа {school_id}", timezone=TZ, policy_text=policy,
                   week_days="1,2,3,4,5,6,7")
        students = [("s1", "Иванов Иван", "1а", "2018-03-01"), ("s2", "Петрова Анна", "1а", "2018-05-02"),
                    ("s3", "Сидоров Пётр", "5а", "2014-01-10"), ("s4", "Орлова Мария", "5а", "2014-02-11"),
                    ("s5", "Козлов Егор", "5а", "2014-03-12"), ("s6", "Волков Олег", "1а", "2018-04-13")]
        import_rows(conn, school_id, "students", [
            {"student_id": s, "full_name": n, "class": c, "shift": 1, "birth_date": b} for s, n, c, b in students])
        import_rows(conn, school_id, "cards", [
            {"card": f"EM:00000000{i:02d}", "student_id": s} for i, (s, *_rest) in enumerate(students, 1)])
        import_rows(conn, school_id, "benefits", [
            {"student_id": "s3", "category": "low_income", "order_no": "01-04-1", "order_date": "2020-09-01"}])
        import_rows(conn, school_id, "orders", [  # dates are judged as on `day`, which may be past
            {"student_id": s, "day": d.isoformat(), "meals": "завтрак"}
            for s in ("s1", "s2", "s3", "s4", "s6") for d in (day, day + timedelta(days=1))], today=day)
        import_rows(conn, school_id, "prices", [
            {"day": d.isoformat(), "meal": m, "price": p} for d in (day, day + timedelta(days=1))
            for m, p in (("breakfast", "75,00"), ("lunch", "110,00"))])
        import_rows(conn, school_id, "topups", [
            {"student_id": "s4", "amount": "500,00", "paid_at": (day - timedelta(days=30)).isoformat(),
             "reference": "pay-1"}], today=day)
        import_rows(conn, school_id, "breaks", [{"shift": 1, "number": 1, "starts": "08:40", "ends": "09:00"}])
        import_rows(conn, school_id, "meal_slots", [
            {"class": c, "meal": "breakfast", "shift": 1, "break_no": 1} for c in ("1а", "5а")])
    return {"school_id": school_id, "day": day}


def enroll(engine: Engine, school_id: str = "sch1") -> tuple[str, str]:
    with engine.begin() as conn:
        return enroll_terminal(conn, school_id)


def make_admin(engine: Engine, login: str = "admin", password: str = "secret-pass", school_id: str | None = None
               ) -> None:
    with engine.begin() as conn:
        add_admin(conn, login, password, school_id=school_id)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@contextmanager
def server_process(database_url: str, port: int | None = None) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """A real server (`python -m server run`) on loopback; yields (base URL, process)."""
    port = port or free_port()
    env = {**os.environ, "CANTEEN_DATABASE_URL": database_url, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-m", "server", "run", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(url, proc)
        yield url, proc
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


def wait_until_up(url: str, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited: {proc.stderr.read().decode() if proc.stderr else ''}")
        try:
            if httpx.get(f"{url}/api/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.05)
    raise RuntimeError("server did not start")
