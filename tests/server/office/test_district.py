"""The district (управление образования): its schools' day and month, the roll-ups, the submission loop, and
that a district user sees only the own district's schools (pages, downloads, the API)."""

from __future__ import annotations

import io
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from openpyxl import load_workbook
from sqlalchemy import Engine, insert, select, update

from server import district
from server.models import Absence, ReportExport, School, SubmissionStep, Terminal
from server.office.changes import NotFound, OfficeError
from server.office.roles import Role
from server.reports.common import grid_xlsx
from tests.server.kit import school_today
from tests.server.office.conftest import PASSWORD, Office
from tests.server.office.test_today import _store, event

OWN, OTHER = "nazarovo", "achinsk"  # the conftest's district user holds "nazarovo"


def districts(engine: Engine) -> None:
    """nazarovo: sch1; achinsk: sch2 (both schools seeded by the `office` fixture)."""
    with engine.begin() as conn:
        district.add(conn, "it", OWN, "Управление образования г. Назарово")
        district.add(conn, "it", OTHER, "Управление образования г. Ачинска")
        district.attach(conn, "it", OWN, ["sch1"])
        district.attach(conn, "it", OTHER, ["sch2"])


def submit(engine: Engine, school_id: str = "sch1", kind: str = "monthly", month: date | None = None,
           actor: str = "coordinator") -> district.Submission:
    with engine.begin() as conn:
        return district.submit(conn, actor, school_id, kind, month or last_month())


def last_month() -> date:
    """The month a monthly report may be sent for: the one before this one (it is over)."""
    return district.add_months(school_today().replace(day=1), -1)


@pytest.fixture(autouse=True)
def _no_kept_counts() -> None:
    """Each test's database starts its revs anew: counts kept by an earlier test must not be taken."""
    district.forget_counts()


@pytest.fixture
def two(office: Office) -> Office:
    districts(office.engine)
    return office


# --- the service --------------------------------------------------------------------------------------------

def test_the_day_counts_students_entitled_free_meals_coverage_and_terminals(two: Office) -> None:
    day = school_today()
    # s3 (low income) is the only entitled student; s1 eats free by grade; s2's free serve is reversed.
    s2 = event(3, day, "s2")
    _store(two.engine, event(1, day, "s3"), event(2, day, "s1"), s2,
           event(4, day, "s2", "reversal", ref_event_id=s2["id"], outcome="reversal", free_kopecks=-4858),
           event(5, day, "s4", outcome="serve_paid", paid_kopecks=7500, free_kopecks=0, budget_line=None),
           event(6, day, "s3", school_id="sch2"))
    now = datetime.now(UTC).replace(tzinfo=None)
    with two.engine.begin() as conn:
        for tid, seen, outbox in (("t1", now, 3), ("t2", now - timedelta(days=2), 0), ("t3", None, None)):
            conn.execute(insert(Terminal).values(id=tid, school_id="sch1", name=tid, token_hash=tid * 10,
                                                 created_at=now, last_seen_at=seen, outbox_size=outbox))
        view = district.overview(conn, OWN, day, day, today=day)
    [line] = view.lines
    assert (line.school_id, line.students, line.entitled, line.entitled_present) == ("sch1", 6, 1, 1)
    assert (line.free_meals, line.covered, line.coverage) == (2, 1, "100 %")  # s3 and s1; s2 reversed
    assert (line.silent, line.holding) == (2, 1)
    assert "не отправлен" in line.monthly
    with two.engine.begin() as conn:  # s3 marked absent: nobody entitled is present, coverage is not a number
        conn.execute(insert(Absence).values(school_id="sch1", student_id="s3", day=day, reason=""))
        conn.execute(update(Terminal).where(Terminal.id == "t1").values(outbox_size=0))
        line = district.overview(conn, OWN, day, day, today=day).lines[0]
    assert (line.entitled_present, line.coverage, line.holding) == (0, "—", 0)


def test_the_month_counts_each_entitled_student_once(two: Office) -> None:
    day = school_today()
    month = day.replace(day=1)
    _store(two.engine, event(1, day, "s3"), event(2, month, "s3"))
    with two.engine.connect() as conn:
        view = district.overview(conn, OWN, month, district.month_end(month), today=day)
    assert (view.lines[0].free_meals, view.lines[0].covered, view.lines[0].coverage) == (2, 1, "100 %")
    assert view.monthly_month == view.request_month == month


def test_a_month_is_sent_once_it_is_over_and_a_request_from_the_month_before() -> None:
    dec, jan, feb = date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)
    assert "с 01.01.2027" in (district.too_early("monthly", dec, date(2026, 12, 31)) or "")
    assert district.too_early("monthly", dec, date(2027, 1, 1)) is None
    assert district.too_early("request", jan, date(2026, 12, 3)) is None
    assert "с 01.01.2027" in (district.too_early("request", feb, date(2026, 12, 31)) or "")
    assert district.too_early("request", dec, date(2026, 12, 3)) is None  # late, but still accepted


def test_deadlines() -> None:
    assert district.deadline("monthly", date(2026, 12, 1)) == date(2027, 1, 5)
    assert district.deadline("request", date(2027, 3, 1)) == date(2027, 2, 28)
    assert district.deadline("request", date(2027, 1, 1)) == date(2026, 12, 30)
    text, late = district.state_text(None, "monthly", date(2026, 11, 1), date(2026, 12, 6))
    assert late and "срок истёк 05.12.2026" in text
    assert district.state_text(None, "monthly", date(2026, 11, 1), date(2026, 12, 5))[1] is False


def test_submit_return_resubmit_accept_keeps_every_step(two: Office) -> None:
    month = last_month()
    first = submit(two.engine)
    assert first.state == "submitted" and [s.action for s in first.steps] == ["submitted"]
    with pytest.raises(OfficeError, match="уже отправлен"):
        submit(two.engine)
    with two.engine.begin() as conn, pytest.raises(OfficeError, match="напишите в комментарии"):
        district.decide(conn, "uo", OWN, first.id, "returned", "  ")
    with two.engine.begin() as conn:
        back = district.decide(conn, "uo", OWN, first.id, "returned", "Не указаны пайки за 3 число")
    assert back.state == "returned" and back.last_comment == "Не указаны пайки за 3 число"
    _store(two.engine, event(1, month + timedelta(days=2), "s3"))  # the school corrects: one more free meal
    again = submit(two.engine)
    assert again.id == first.id and again.state == "submitted"
    with two.engine.connect() as conn:
        changes = again.changes(conn)
        assert changes and any("было" in c for c in changes)
        assert again.figures(conn)
        exports = conn.execute(select(ReportExport.submitted).where(ReportExport.kind == "monthly")).scalars().all()
    assert exports == [True, True]
    with two.engine.begin() as conn:
        done = district.decide(conn, "uo", OWN, first.id, "accepted")
        with pytest.raises(OfficeError, match="уже принят"):
            district.decide(conn, "uo", OWN, first.id, "returned", "ещё")
    assert [(s.action, s.actor) for s in done.steps] == [
        ("submitted", "coordinator"), ("returned", "uo"), ("submitted", "coordinator"), ("accepted", "uo")]
    with two.engine.connect() as conn:
        assert district.of_schools(conn, ["sch1"], "monthly", month)["sch1"].state == "accepted"


def test_another_districts_submission_is_not_found(two: Office) -> None:
    theirs = submit(two.engine, "sch2")
    with two.engine.begin() as conn:
        with pytest.raises(NotFound):
            district.decide(conn, "uo", OWN, theirs.id, "accepted")
        with pytest.raises(NotFound):
            district.submission(conn, theirs.id, school_id="sch1")


def test_a_school_without_a_district_cannot_submit(office: Office) -> None:
    with pytest.raises(OfficeError, match="не прикреплена"):
        submit(office.engine)


def test_bad_district_input(office: Office) -> None:
    with office.engine.begin() as conn:
        with pytest.raises(OfficeError, match="код управления"):
            district.add(conn, "it", "не код", "x")
        with pytest.raises(OfficeError, match="название"):
            district.add(conn, "it", "d1", " ")
        with pytest.raises(NotFound):
            district.attach(conn, "it", "nowhere", ["sch1"])
        district.add(conn, "it", "d1", "Управление")
        with pytest.raises(NotFound, match="школа nope"):
            district.attach(conn, "it", "d1", ["nope"])
        with pytest.raises(OfficeError, match="в управление образования отправляются"):
            district.submit(conn, "x", "sch1", "tabel", date(2026, 1, 1))


def test_the_rollup_has_a_row_per_school_and_totals(two: Office) -> None:
    day = school_today()
    month = day.replace(day=1)
    with two.engine.begin() as conn:
        district.attach(conn, "it", OWN, ["sch2"])
    _store(two.engine, event(1, day, "s3"), event(2, day, "s1", school_id="sch2"), event(3, day, "s6"))
    with two.engine.connect() as conn:
        r = district.rollup(conn, OWN, "monthly", month, today=day)
    assert [row[0] for row in r.rows] == ["sch1", "sch2"]
    assert [row[2][:2] for row in r.rows] == [(2, 2 * 4858), (1, 4858)]
    assert r.totals[:2] == (3, 3 * 4858)
    book = load_workbook(io.BytesIO(grid_xlsx(district.grid(r))))
    values = [c for row in book.active.iter_rows(values_only=True) for c in row if c is not None]  # type: ignore[union-attr]
    assert "Школа sch1" in values and "Итого" in values and 3 in values
    data = district.to_json(r)
    assert data["schools"][1]["figures"]["Бесплатно: приёмов пищи"] == 1
    with two.engine.connect() as conn:
        req = district.rollup(conn, OWN, "request", district.add_months(month, 1), today=day)
    assert len(req.rows) == 2 and all(row[2] for row in req.rows)


def test_cli_makes_a_district_attaches_a_school_and_adds_a_user(office: Office, db_url: str,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from server.cli import server

    monkeypatch.setenv("CANTEEN_DATABASE_URL", db_url)
    monkeypatch.setenv("CANTEEN_ADMIN_PASSWORD", PASSWORD)
    run = CliRunner()
    assert run.invoke(server, ["district", "add", "d1", "--name", "Управление"]).exit_code == 0
    got = run.invoke(server, ["district", "attach", "d1", "sch1"])
    assert got.exit_code == 0, got.output
    got = run.invoke(server, ["district", "user", "d1", "uo-1", "--name", "Инспектор"])
    assert got.exit_code == 0, got.output
    bad = run.invoke(server, ["district", "attach", "d1", "nope"])
    assert bad.exit_code == 1 and "школа nope не найдена" in bad.output
    with office.engine.connect() as conn:
        assert district.schools(conn, "d1") == [("sch1", "Школа sch1")]
        view = district.overview(conn, "d1", school_today(), school_today(), today=school_today())
    assert view.lines[0].students == 6


# --- pages and authorization ---------------------------------------------------------------------------------

def _text(response: Any) -> str:
    return str(response.get_data(as_text=True))


def test_the_district_pages_show_the_own_schools_only(two: Office) -> None:
    client = two.client(Role.DISTRICT)
    page = client.get(f"/office/district/{OWN}")
    assert page.status_code == 200 and "Школа sch1" in _text(page) and "Школа sch2" not in _text(page)
    month = client.get(f"/office/district/{OWN}/month")
    assert month.status_code == 200 and "Школа sch1" in _text(month)
    assert client.get(f"/office/district/{OWN}?day=вчера").status_code == 400
    assert client.get(f"/office/district/{OWN}/month?month=2026-13").status_code == 400
    assert client.get("/").headers["Location"].endswith(f"/office/district/{OWN}")


def test_a_district_user_gets_nothing_of_another_district(two: Office) -> None:
    theirs = submit(two.engine, "sch2")
    client = two.client(Role.DISTRICT)
    month = school_today().strftime("%Y-%m")
    for url in (f"/office/district/{OTHER}", f"/office/district/{OTHER}/month",
                f"/office/district/{OTHER}/reports/monthly?month={month}",
                f"/office/district/{OTHER}/reports/monthly?month={month}&format=json",
                f"/office/district/{OTHER}/submissions/{theirs.id}"):
        assert client.get(url).status_code == 403, url
    assert client.post(f"/office/district/{OTHER}/submissions/{theirs.id}", data={"action": "accepted"}
                       ).status_code in (400, 403)  # CSRF or the rule: never a decision
    # the other district's submission through the own district's URL: not found
    assert client.get(f"/office/district/{OWN}/submissions/{theirs.id}").status_code == 404
    two.app.config["WTF_CSRF_ENABLED"] = False
    assert client.post(f"/office/district/{OWN}/submissions/{theirs.id}", data={"action": "accepted"}
                       ).status_code == 404
    assert client.post(f"/office/district/{OTHER}/submissions/{theirs.id}", data={"action": "accepted"}
                       ).status_code == 403
    # a district grant opens no school page: neither the district's school nor another
    for school_id in ("sch1", "sch2"):
        for path in ("today", "orders", "reports", "students"):
            assert client.get(f"/office/{school_id}/{path}").status_code in (403, 404), (school_id, path)
    with two.engine.connect() as conn:
        assert conn.execute(select(SubmissionStep.action).where(
            SubmissionStep.submission_id == theirs.id)).scalars().all() == ["submitted"]


def test_rollup_downloads_and_api(two: Office) -> None:
    _store(two.engine, event(1, school_today(), "s3"))
    client = two.client(Role.DISTRICT)
    month = school_today().strftime("%Y-%m")
    xlsx = client.get(f"/office/district/{OWN}/reports/monthly?month={month}")
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK"
    csv = client.get(f"/office/district/{OWN}/reports/monthly?month={month}&format=csv")
    assert "Школа sch1" in _text(csv) and "Итого" in _text(csv)
    api = client.get(f"/office/district/{OWN}/reports/monthly?month={month}&format=json")
    assert api.status_code == 200
    body = json.loads(api.data)
    assert [s["school_id"] for s in body["schools"]] == ["sch1"] and body["totals"]["Бесплатно: приёмов пищи"] == 1
    assert client.get(f"/office/district/{OWN}/reports/tabel?month={month}&format=json").status_code == 400
    assert client.get(f"/office/district/{OWN}/reports/monthly?month=13&format=json").status_code == 400
    assert client.get(f"/office/district/{OWN}/reports/monthly?month={month}&format=exe").status_code == 400
    assert two.client(Role.COORDINATOR).get(f"/office/district/{OWN}/reports/monthly").status_code == 403


def test_the_loop_through_the_pages(two: Office) -> None:
    two.app.config["WTF_CSRF_ENABLED"] = False
    current = school_today().strftime("%Y-%m")
    month = last_month().strftime("%Y-%m")
    school = two.client(Role.COORDINATOR)
    reports = school.get(f"/office/sch1/reports?month={month}")
    assert "Отправить в управление образования" in _text(reports)
    sent = school.post("/office/sch1/reports/submit", data={"kind": "monthly", "month": month})
    assert sent.status_code == 303
    assert "отправлен, на проверке" in _text(school.get(f"/office/sch1/reports?month={month}"))
    bad = school.post("/office/sch1/reports/submit", data={"kind": "monthly", "month": "май"})
    assert bad.status_code == 303
    assert "уже отправлен" not in _text(school.get(bad.headers["Location"]))
    twice = school.post("/office/sch1/reports/submit", data={"kind": "monthly", "month": month})
    assert "уже отправлен" in _text(school.get(twice.headers["Location"]))
    with two.engine.connect() as conn:
        sub_id = district.of_schools(conn, ["sch1"], "monthly", last_month())["sch1"].id
    uo = two.client(Role.DISTRICT)
    page = uo.get(f"/office/district/{OWN}/submissions/{sub_id}")
    assert page.status_code == 200 and "Принять" in _text(page)
    empty = uo.post(f"/office/district/{OWN}/submissions/{sub_id}", data={"action": "returned", "comment": ""})
    assert empty.status_code == 422 and "напишите в комментарии" in _text(empty)
    assert uo.post(f"/office/district/{OWN}/submissions/{sub_id}", data={"action": "maybe"}).status_code == 422
    back = uo.post(f"/office/district/{OWN}/submissions/{sub_id}",
                   data={"action": "returned", "comment": "Проверьте 3 число"})
    assert back.status_code == 303
    again = _text(school.get(f"/office/sch1/reports?month={month}"))
    assert "Проверьте 3 число" in again and "Отправить снова" in again
    # Seen from any month's «Отчёты»: the returned register, its comment and a link to its month.
    elsewhere = school.get(f"/office/sch1/reports?month={current}")
    assert "вернуло на исправление" in _text(elsewhere) and "Проверьте 3 число" in _text(elsewhere)
    assert f"month={month}" in elsewhere.get_data(as_text=True)
    # This month is not over: its monthly report cannot be sent yet, on the page or by a forged form.
    assert "можно отправить после окончания месяца" in _text(elsewhere)
    early = school.post("/office/sch1/reports/submit", data={"kind": "monthly", "month": current})
    assert "можно отправить после окончания месяца" in _text(school.get(early.headers["Location"]))
    history = school.get(f"/office/sch1/reports/submissions/{sub_id}?print=1")
    assert history.status_code == 200 and "Проверьте 3 число" in _text(history) and "возвращён" in _text(history)
    assert school.get(f"/office/sch2/reports/submissions/{sub_id}").status_code == 403
    assert school.get(f"/office/sch1/reports/submissions/{sub_id + 99}").status_code == 404
    assert two.client(Role.TEACHER).post("/office/sch1/reports/submit",
                                         data={"kind": "monthly", "month": month}).status_code == 403


def test_open_mismatches_are_counted_within_the_budget_and_kept(two: Office) -> None:
    day = school_today()
    with two.engine.begin() as conn:
        district.attach(conn, "it", OWN, ["sch2"])
    _store(two.engine, event(1, day - timedelta(days=1), "s5"))  # served without an order: an open item
    start, end = day - timedelta(days=1), day
    with two.engine.connect() as conn:
        none = district.overview(conn, OWN, start, end, today=day, budget_s=-1)
        assert [x.mismatches_state for x in none.lines] == ["pending", "pending"]
        counted = district.overview(conn, OWN, start, end, today=day)
        assert [x.mismatches_state for x in counted.lines] == ["", ""]
        assert counted.lines[0].open_mismatches >= 1 and counted.lines[1].open_mismatches == 0
    _store(two.engine, event(2, day - timedelta(days=1), "s5", school_id="sch2"))
    with two.engine.begin() as conn:  # a push takes a rev: the kept count is out of date
        conn.execute(update(School).where(School.id == "sch2").values(rev=School.rev + 1))
        stale = district.overview(conn, OWN, start, end, today=day, budget_s=-1)
    assert [x.mismatches_state for x in stale.lines] == ["", "stale"]
    with two.engine.connect() as conn:
        fresh = district.overview(conn, OWN, start, end, today=day)
    assert fresh.lines[1].open_mismatches >= 1 and fresh.lines[1].mismatches_state == ""


def test_a_district_grant_covers_its_district_pages_and_no_school() -> None:
    from server.office.roles import Grant, Scope, permits

    grants = [Grant(Role.DISTRICT, Scope.DISTRICT, None, OWN)]
    assert permits(grants, [Role.DISTRICT], district_id=OWN)
    assert not permits(grants, [Role.DISTRICT], district_id=OTHER)
    assert not permits(grants, list(Role), school_id="sch1")
    school = [Grant(Role.SCHOOL_ADMIN, Scope.SCHOOL, "sch1")]
    assert not permits(school, list(Role), district_id=OWN)


def test_a_school_without_a_district_has_no_submit_button(office: Office) -> None:
    page = office.client(Role.COORDINATOR).get("/office/sch1/reports")
    assert page.status_code == 200 and "Отправить в управление образования" not in _text(page)
