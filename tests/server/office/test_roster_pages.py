"""The roster pages: «Ученики» search, a student's page and its card and diet forms (bad input included)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from server.models import Card, Student
from server.office.roles import Role
from tests.server.office.conftest import Office

S1 = "/office/sch1/students/s1"


def _coordinator(office: Office) -> Any:
    office.app.config["WTF_CSRF_ENABLED"] = False  # CSRF on every office form has its own test
    return office.client(Role.COORDINATOR)


def _card(office: Office, uid: str) -> Any:
    with office.engine.connect() as conn:
        return conn.execute(select(Card.student_id, Card.blocked, Card.blocked_reason).where(
            Card.school_id == "sch1", Card.uid == uid)).first()


def test_search_finds_a_student_by_card_number_or_name_and_links_the_page(office: Office) -> None:
    client = office.client(Role.COORDINATOR)
    by_card = client.get("/office/sch1/students/results?q=EM:0000000003").get_data(as_text=True)
    assert "Сидоров Пётр" in by_card and "/office/sch1/students/s3" in by_card and "Иванов" not in by_card
    by_name = client.get("/office/sch1/students/results?q=анна петр").get_data(as_text=True)
    assert "Петрова Анна" in by_name and "Сидоров" not in by_name
    by_category = client.get("/office/sch1/students/results?category=low_income").get_data(as_text=True)
    assert "Сидоров Пётр" in by_category and "Орлова" not in by_category
    page = client.get("/office/sch1/students?class=5а").get_data(as_text=True)
    assert "Козлов Егор" in page and "Иванов" not in page.split('id="results"')[1].split("<h2>")[0]
    assert 'hx-get="/office/sch1/students/results"' in page


def test_a_class_teacher_finds_only_the_students_of_their_class(office: Office) -> None:
    teacher = office.client(Role.TEACHER)
    assert "Никого не нашлось" in teacher.get("/office/sch1/students/results?q=Сидоров").get_data(as_text=True)
    assert "Иванов Иван" in teacher.get("/office/sch1/students/results?q=Иванов").get_data(as_text=True)
    assert teacher.get("/office/sch1/students/s3").status_code == 403
    page = teacher.get(S1).get_data(as_text=True)
    assert "Иванов Иван" in page and "Выдать карту" not in page and "Заблокировать" not in page


def test_a_bad_search_and_an_unknown_student_are_pages_not_errors(office: Office) -> None:
    client = office.client(Role.COORDINATOR)
    assert client.get("/office/sch1/students/results?q=%ff%3C&class=9я&category=nope").status_code == 200
    missing = client.get("/office/sch1/students/nobody")
    assert missing.status_code == 404 and "Ученик не найден" in missing.get_data(as_text=True)


def test_the_student_page_shows_the_account_statement_benefits_and_cards(office: Office) -> None:
    client = office.client(Role.COORDINATOR)
    s4 = client.get("/office/sch1/students/s4").get_data(as_text=True)
    assert "500,00 ₽" in s4 and "Пополнение счёта" in s4 and "+500,00 ₽" in s4 and "EM:0000000004" in s4
    s3 = client.get("/office/sch1/students/s3").get_data(as_text=True)
    assert "№ 01-04-1 от 01.09.2020" in s3 and "Малообеспеченные" in s3


def test_blocking_a_card_needs_a_reason_and_then_is_logged_with_what_it_was(office: Office) -> None:
    client = _coordinator(office)
    refused = client.post(S1 + "/cards/block", data={"card": "EM:0000000001", "reason": "  "})
    assert refused.status_code == 422 and "Укажите причину блокировки" in refused.get_data(as_text=True)
    assert not _card(office, "EM:0000000001").blocked
    done = client.post(S1 + "/cards/block", data={"card": "EM:0000000001", "reason": "сломана"})
    assert done.status_code == 303 and done.headers["Location"] == S1
    page = client.get(S1).get_data(as_text=True)
    assert "Карта заблокирована: терминалы перестанут её принимать" in page
    assert "заблокирована: сломана" in page
    assert "карта заблокирована" in page and "заблокирована: нет" in page and "coordinator" in page
    assert _card(office, "EM:0000000001").blocked_reason == "сломана"


def test_a_card_form_cannot_act_on_another_students_card(office: Office) -> None:
    response = _coordinator(office).post(S1 + "/cards/block", data={"card": "EM:0000000003", "reason": "чужая"})
    assert response.status_code == 422 and "У ученика нет карты" in response.get_data(as_text=True)
    assert not _card(office, "EM:0000000003").blocked


def test_issuing_a_card_keeps_what_was_typed_when_it_is_refused(office: Office) -> None:
    client = _coordinator(office)
    garbage = client.post(S1 + "/cards/issue", data={"card": "не номер"})
    text = garbage.get_data(as_text=True)
    assert garbage.status_code == 422 and "Номер карты не распознан" in text and 'value="не номер"' in text
    taken = client.post(S1 + "/cards/issue", data={"card": "EM:0000000003"})
    assert taken.status_code == 422 and "уже выдана другому ученику" in taken.get_data(as_text=True)
    assert client.post(S1 + "/cards/issue", data={"card": "EM:00000000AA"}).status_code == 303
    assert _card(office, "EM:00000000AA").student_id == "s1"


def test_replacing_a_lost_card_blocks_the_old_and_issues_the_new_or_changes_nothing(office: Office) -> None:
    client = _coordinator(office)
    bad = client.post(S1 + "/cards/replace", data={"card": "EM:0000000001", "new_card": "EM:0000000002"})
    assert bad.status_code == 422 and "уже выдана другому ученику" in bad.get_data(as_text=True)
    assert not _card(office, "EM:0000000001").blocked
    good = client.post(S1 + "/cards/replace", data={"card": "EM:0000000001", "new_card": "EM:00000000BB"})
    assert good.status_code == 303
    assert _card(office, "EM:0000000001").blocked_reason == "утеряна"
    assert _card(office, "EM:00000000BB").student_id == "s1"


def test_the_diet_note_is_saved_and_a_too_long_one_is_kept_in_the_form(office: Office) -> None:
    client = _coordinator(office)
    long = "без глютена " * 50
    refused = client.post(S1 + "/diet", data={"diet_note": long})
    assert refused.status_code == 422 and "не длиннее 500 символов" in refused.get_data(as_text=True)
    assert long.strip() in refused.get_data(as_text=True)
    assert client.post(S1 + "/diet", data={"diet_note": "без молока"}).status_code == 303
    with office.engine.connect() as conn:
        assert conn.execute(select(Student.diet_note).where(Student.id == "s1",
                                                            Student.school_id == "sch1")).scalar() == "без молока"
    page = client.get(S1).get_data(as_text=True)
    assert "Особенности питания сохранены." in page and "особенности питания изменены" in page


def test_a_change_on_an_unknown_student_is_a_404_page(office: Office) -> None:
    client = _coordinator(office)
    assert client.post("/office/sch1/students/nobody/diet", data={"diet_note": "x"}).status_code == 404
    response = client.post("/office/sch1/students/nobody/cards/issue", data={"card": "EM:00000000CC"})
    assert response.status_code in (404, 422) and response.status_code != 500


def test_a_card_form_without_the_csrf_token_is_refused_and_changes_nothing(office: Office) -> None:
    client = office.client(Role.COORDINATOR)
    response = client.post(S1 + "/cards/block", data={"card": "EM:0000000001", "reason": "сломана"})
    assert response.status_code == 400 and not _card(office, "EM:0000000001").blocked
    assert 'name="csrf_token"' in client.get(S1).get_data(as_text=True)



def test_a_nul_character_in_a_form_search_or_address_is_a_400_page_not_a_500(office: Office) -> None:
    client = _coordinator(office)
    for response in (client.post(S1 + "/cards/block", data={"card": "EM:0000000001", "reason": "a\x00b"}),
                     client.post(S1 + "/diet", data={"diet_note": "\x00"}),
                     client.get("/office/sch1/students/results?class=5%00"),
                     client.get("/office/sch1/students/s%001"),
                     client.post("/office/sch1/benefits/new", data={"student_id": "s\x002"}),
                     client.post("/office/sch1/benefits/x%00/order", data={"order_no": "1"})):
        assert response.status_code == 400 and "знак NUL" in response.get_data(as_text=True)
    assert not _card(office, "EM:0000000001").blocked
