"""A student's class over time (`server.office.history`): moves today and backdated, a same-day move, the
students file moving a student (with and without «Дата перевода»), the page action, and the mismatch report
judging a past day by the class of that day."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select

from server.history import class_book
from server.importer import ImportFailed, import_file, import_rows
from server.mismatches import report
from server.models import HISTORY_START, Event, Order, Student
from server.office import audit, history
from server.office.changes import NotFound, OfficeError
from server.office.roles import Role
from tests.server.kit import school_today, seed_school
from tests.server.office.conftest import Office


def _add_5b(engine: Engine, today: date) -> None:
    """A third class, 5б (grade 5, shift 1), with one student s7."""
    with engine.begin() as conn:
        import_rows(conn, "sch1", "students", [{"student_id": "s7", "full_name": "Зайцева Ольга", "class": "5б",
                                                "shift": 1, "birth_date": "2014-05-05"}], today=today)


def _spans(engine: Engine, student: str) -> list[tuple[date, str]]:
    with engine.connect() as conn:
        return [(s.starts, s.class_id) for s in history.class_history(conn, "sch1", student)]


def _current(engine: Engine, student: str) -> str:
    with engine.connect() as conn:
        return str(conn.execute(select(Student.class_id).where(Student.school_id == "sch1",
                                                               Student.id == student)).scalar_one())


def test_every_imported_student_is_in_the_file_s_class_since_the_beginning(engine: Engine) -> None:
    seed_school(engine)
    assert _spans(engine, "s1") == [(HISTORY_START, "1а")] and _spans(engine, "s4") == [(HISTORY_START, "5а")]


def test_a_backdated_move_changes_the_class_from_that_day_and_today_s_class(engine: Engine) -> None:
    seed_school(engine)
    today = school_today()
    moved_on = today - timedelta(days=10)
    with engine.connect() as conn:
        rev_before = conn.execute(select(Student.rev).where(Student.id == "s4", Student.school_id == "sch1")).scalar()
    with engine.begin() as conn:
        done = history.move_student(conn, "coord", "sch1", "s4", "1а", moved_on)
    assert (done.class_id, done.class_name, done.starts, done.current_class_id) == ("1а", "1А", moved_on, "1а")
    with engine.connect() as conn:
        book = class_book(conn, "sch1")
        rev_after = conn.execute(select(Student.rev).where(Student.id == "s4", Student.school_id == "sch1")).scalar()
        logged = audit.history(conn, "sch1", "student", "s4")
    assert book.class_on("s4", moved_on - timedelta(days=1)) == "5а"
    assert book.class_on("s4", moved_on) == book.class_on("s4", today) == "1а"
    assert _current(engine, "s4") == "1а" and rev_after > rev_before  # the terminals pull the new class
    assert logged[-1]["action"] == "move" and logged[-1]["actor"] == "coord"
    assert logged[-1]["before"] == {"class_id": "5а", "starts": moved_on.isoformat()}
    assert logged[-1]["after"] == {"class_id": "1а", "starts": moved_on.isoformat()}


def test_a_move_of_the_same_day_replaces_that_day_s_and_a_move_back_leaves_no_trace(engine: Engine) -> None:
    seed_school(engine)
    today = school_today()
    _add_5b(engine, today)
    day = today - timedelta(days=3)
    with engine.begin() as conn:
        history.move_student(conn, "coord", "sch1", "s4", "1а", day)
    with engine.begin() as conn:
        history.move_student(conn, "coord", "sch1", "s4", "5б", day)
    assert _spans(engine, "s4") == [(HISTORY_START, "5а"), (day, "5б")] and _current(engine, "s4") == "5б"
    with engine.begin() as conn:
        history.move_student(conn, "coord", "sch1", "s4", "5а", day)  # entered by mistake: back
    assert _spans(engine, "s4") == [(HISTORY_START, "5а")] and _current(engine, "s4") == "5а"


def test_a_move_entered_late_keeps_a_later_move(engine: Engine) -> None:
    seed_school(engine)
    today = school_today()
    _add_5b(engine, today)
    later, earlier = today - timedelta(days=5), today - timedelta(days=20)
    with engine.begin() as conn:
        history.move_student(conn, "coord", "sch1", "s5", "5б", later)
        done = history.move_student(conn, "coord", "sch1", "s5", "1а", earlier)  # the first move, entered late
    assert done.current_class_id == "5б" and _current(engine, "s5") == "5б"
    assert _spans(engine, "s5") == [(HISTORY_START, "5а"), (earlier, "1а"), (later, "5б")]


@pytest.mark.parametrize(("student", "target", "shift_days", "message"), [
    ("s4", "1а", 1, "позже сегодняшнего дня"),
    ("s4", "1а", -800, "раньше начала прошлого учебного года"),
    ("s4", "9я", 0, "класса «9я» нет в школе"),
    ("s4", "5а", -3, "ученик уже в классе 5А"),
])
def test_a_move_that_cannot_be_is_refused_in_russian_and_changes_nothing(
        engine: Engine, student: str, target: str, shift_days: int, message: str) -> None:
    seed_school(engine)
    with pytest.raises(OfficeError, match=message), engine.begin() as conn:
        history.move_student(conn, "coord", "sch1", student, target, school_today() + timedelta(days=shift_days))
    assert _spans(engine, "s4") == [(HISTORY_START, "5а")] and _current(engine, "s4") == "5а"
    with pytest.raises(NotFound, match="ученика с кодом nobody нет"), engine.begin() as conn:
        history.move_student(conn, "coord", "sch1", "nobody", "1а")


def test_the_students_file_moves_a_student_from_today_or_from_its_date(engine: Engine) -> None:
    seed_school(engine)
    today = school_today()
    rows = [{"student_id": "s4", "full_name": "Орлова Мария", "class": "5б", "shift": 1},
            {"student_id": "s8", "full_name": "Новикова Вера", "class": "5б", "shift": 1}]
    with engine.begin() as conn:
        import_rows(conn, "sch1", "students", rows, today=today)
    assert _spans(engine, "s4") == [(HISTORY_START, "5а"), (today, "5б")]
    assert _spans(engine, "s8") == [(HISTORY_START, "5б")]  # new to the school: in its class since the beginning
    # A file with «Дата перевода»: s5 came into 5б ten days ago; s4's move was really a week ago.
    week, ten = today - timedelta(days=7), today - timedelta(days=10)
    data = ("Код ученика;ФИО;Класс;Дата перевода\n"
            f"s4;Орлова Мария;5б;{week:%d.%m.%Y}\ns5;Козлов Егор;5б;{ten:%d.%m.%Y}\n").encode()
    with engine.begin() as conn:
        import_file(conn, "sch1", "students", data, "students.csv", today=today)
        book = class_book(conn, "sch1")
    assert _spans(engine, "s4") == [(HISTORY_START, "5а"), (week, "5б")]
    assert book.class_on("s5", ten - timedelta(days=1)) == "5а" and book.class_on("s5", ten) == "5б"
    assert _current(engine, "s5") == "5б"


def test_a_file_s_move_date_in_the_future_or_too_old_is_a_row_error_and_nothing_is_written(engine: Engine) -> None:
    seed_school(engine)
    today = school_today()
    data = ("Код ученика;ФИО;Класс;Дата перевода\n"
            f"s4;Орлова Мария;5б;{today + timedelta(days=2):%d.%m.%Y}\n"
            f"s5;Козлов Егор;5б;{today - timedelta(days=900):%d.%m.%Y}\n").encode()
    with pytest.raises(ImportFailed) as failed, engine.begin() as conn:
        import_file(conn, "sch1", "students", data, "students.csv", today=today)
    assert any("Дата перевода" in e and "позже сегодняшнего дня" in e for e in failed.value.errors)
    assert any("раньше начала прошлого учебного года" in e for e in failed.value.errors)
    assert _spans(engine, "s4") == [(HISTORY_START, "5а")] and _current(engine, "s5") == "5а"


def _serve(student: str, day: date, free: int) -> dict[str, Any]:
    at = datetime(day.year, day.month, day.day, 1, 40)
    return {"id": uuid.uuid4().hex, "terminal_id": "sch1-T1", "school_id": "sch1", "seq": 1, "kind": "serve",
            "at_utc": at, "local_date": day, "student_id": student, "card_uid": None, "meal": "breakfast",
            "outcome": "serve_free", "reason": "ok", "message": "", "paid_kopecks": 0, "free_kopecks": free,
            "budget_line": "01100L3040", "ref_event_id": None, "source": "card", "staff": "", "note": "",
            "flags": "", "server_flags": "", "received_at": datetime.now(UTC).replace(tzinfo=None), "rev": 1}


def test_the_mismatch_report_judges_a_past_day_by_the_class_of_that_day(engine: Engine) -> None:
    seed_school(engine)
    today = school_today()
    moved_on = today - timedelta(days=10)
    with engine.begin() as conn:
        history.move_student(conn, "coord", "sch1", "s4", "1а", moved_on)  # 5а (pays) -> 1а (breakfast free)
        # s4 (born 11.02.2014) is 12: the 1-4 grades' breakfast for ages 11-13 is 56,49 ₽ (nazarovo table).
        conn.execute(insert(Event), [_serve("s4", moved_on - timedelta(days=1), 5649), _serve("s4", moved_on, 5649)])
        conn.execute(insert(Order), [{"school_id": "sch1", "student_id": "s4", "day": d, "meal": "breakfast",
                                      "rev": 1} for d in (moved_on - timedelta(days=1), moved_on)])
        data = report(conn, "sch1", moved_on - timedelta(days=1), moved_on)
    mine = sorted((i["day"], i["class_name"], i["kind"], i["kopecks"]) for i in data["items"]
                  if i["student_id"] == "s4")
    # The day before the move s4 was in 5а, where breakfast is paid: served free without a right (56,49 ₽).
    # From the move on s4 is in 1а: the free breakfast is the grade's own right, nothing to report.
    assert mine == [((moved_on - timedelta(days=1)).isoformat(), "5А", "without_entitlement", 5649)]
    assert data["not_judged"] == []


def test_the_student_page_moves_a_student_from_a_date_and_shows_the_classes(office: Office) -> None:
    office.app.config["WTF_CSRF_ENABLED"] = False
    client = office.client(Role.COORDINATOR)
    with office.engine.connect() as conn:
        today = history.school_today(conn, "sch1")
    day = today - timedelta(days=4)
    done = client.post("/office/sch1/students/s4/move", data={"class_id": "1а", "starts": f"{day:%d.%m.%Y}"})
    assert done.status_code == 303
    page = client.get("/office/sch1/students/s4").get_data(as_text=True)
    assert f"Перевод записан: класс 1А с {day:%d.%m.%Y}" in page
    assert "с начала учёта: класс 5А" in page and f"с {day:%d.%m.%Y}: класс 1А" in page
    assert "перевод в другой класс" in page  # the change is in the student's history
    assert _current(office.engine, "s4") == "1а"
    bad = client.post("/office/sch1/students/s4/move", data={"class_id": "5а", "starts": "31.02.2026"})
    assert bad.status_code == 422 and "Дата перевода «31.02.2026»: укажите дату в виде дд.мм.гггг" in \
        bad.get_data(as_text=True)
    future = client.post("/office/sch1/students/s4/move",
                         data={"class_id": "5а", "starts": (today + timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and "позже сегодняшнего дня" in future.get_data(as_text=True)
    assert _current(office.engine, "s4") == "1а"


def test_only_the_coordinator_and_the_school_admin_move_students(office: Office) -> None:
    office.app.config["WTF_CSRF_ENABLED"] = False
    for role in (Role.TEACHER, Role.CANTEEN, Role.PARENT):
        assert office.client(role).post("/office/sch1/students/s1/move", data={"class_id": "5а"}).status_code == 403
    teacher_page = office.client(Role.TEACHER).get("/office/sch1/students/s1").get_data(as_text=True)
    assert "Класс по датам" in teacher_page and "Перевести в другой класс" not in teacher_page
    assert office.client(Role.SCHOOL_ADMIN).post("/office/sch1/students/s1/move",
                                                 data={"class_id": "5а"}).status_code == 303
    assert _current(office.engine, "s1") == "5а"
