"""The «Льготы» pages: registering an application with its checklist, the decision, the order, overdue
applications highlighted, lists per category; bad input stays in the form with a Russian message."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from server.office import benefits
from server.office.changes import today
from server.office.roles import Role
from tests.server.office.conftest import Office

NEW = "/office/sch1/benefits/new"
ALL_DOCS = ["1", "2", "3", "4", "5"]  # common + low_income's four in the Nazarovo policy


def _coordinator(office: Office) -> Any:
    office.app.config["WTF_CSRF_ENABLED"] = False  # CSRF on every office form has its own test
    return office.client(Role.COORDINATOR)


def _today(office: Office) -> Any:
    with office.engine.connect() as conn:
        return today(conn, "sch1")


def _register(office: Office, days_ago: int = 0, received: tuple[int, ...] = (1, 2, 3, 4, 5)) -> str:
    day = _today(office) - timedelta(days=days_ago)
    with office.engine.begin() as conn:
        return benefits.register(conn, "test", "sch1", student_id="s2", category="low_income",
                                 registered_on=day, received=received)


def test_the_checklist_follows_the_category_chosen(office: Office) -> None:
    client = office.client(Role.COORDINATOR)
    low = client.get(NEW + "?category=low_income").get_data(as_text=True)
    ovz = client.get(NEW + "?category=ovz").get_data(as_text=True)
    assert "СНИЛС обучающегося" in low and "психолого-медико-педагогической" not in low
    assert "психолого-медико-педагогической" in ovz and "Заявление родителей" in ovz
    assert 'hx-select="#checklist"' in low


def test_registering_a_bad_application_keeps_everything_typed(office: Office) -> None:
    client = _coordinator(office)
    future = (_today(office) + timedelta(days=3)).isoformat()
    cases = [({"student_id": "s2", "category": "low_income", "registered_on": "31.02.2026"}, "в виде дд.мм.гггг"),
             ({"student_id": "s2", "category": "low_income", "registered_on": future}, "не может быть позже"),
             ({"student_id": "nobody", "category": "low_income", "registered_on": ""}, "Укажите дату заявления"),
             ({"student_id": "nobody", "category": "low_income", "registered_on": "2026-01-12"}, "нет в школе"),
             ({"student_id": "s2", "category": "nope", "registered_on": "2026-01-12"}, "нет в политике школы"),
             ({"student_id": "s2", "category": "low_income", "registered_on": "2026-01-12", "received": ["9"]},
              "целое число от 1 до 5")]
    for data, message in cases:
        response = client.post(NEW, data={**data, "applicant": "Петров Павел"})
        text = response.get_data(as_text=True)
        assert response.status_code == 422 and message in text, (data, text[-3000:])
        assert 'value="Петров Павел"' in text
    assert client.get("/office/sch1/benefits").get_data(as_text=True).count('id="app-') == 0


def test_an_application_registered_granted_and_ordered_becomes_an_entitlement_from_the_next_day(
        office: Office) -> None:
    client = _coordinator(office)
    day = _today(office)
    done = client.post(NEW, data={"student_id": "s2", "category": "low_income", "registered_on": day.isoformat(),
                                  "applicant": "Петров Павел", "received": ALL_DOCS})
    assert done.status_code == 303
    page = client.get("/office/sch1/benefits").get_data(as_text=True)
    assert "Заявление зарегистрировано." in page and "Петрова Анна" in page and "на рассмотрении" in page
    app_id = re.search(r'id="app-([0-9a-f]+)"', page)[1]  # type: ignore[index]
    decided = client.post(f"/office/sch1/benefits/{app_id}/decide",
                          data={"decision": "granted", "decided_on": day.isoformat(), "protocol_no": "7"})
    assert decided.status_code == 303
    ordered = client.post(f"/office/sch1/benefits/{app_id}/order",
                          data={"order_no": "01-04-77", "order_date": day.isoformat()})
    assert ordered.status_code == 303
    student = client.get("/office/sch1/students/s2").get_data(as_text=True)
    starts = (day + timedelta(days=1)).strftime("%d.%m.%Y")
    assert f"№ 01-04-77 от {day:%d.%m.%Y}" in student and f"{starts} — 31.05." in student
    assert "протокол № 7" in student and f"от {day:%d.%m.%Y}: Малообеспеченные" in student


def test_a_decision_the_rules_refuse_is_shown_at_its_application(office: Office) -> None:
    client = _coordinator(office)
    app_id = _register(office, received=(1, 2))
    url = f"/office/sch1/benefits/{app_id}/decide"
    day = _today(office).isoformat()
    cases = [({"decided_on": day}, "Выберите решение"),
             ({"decision": "granted", "decided_on": "вчера"}, "в виде дд.мм.гггг"),
             ({"decision": "granted", "decided_on": day}, "не хватает документов"),
             ({"decision": "refused", "decided_on": day, "reason": "whim", "protocol_no": "8"},
              "причину отказа из политики"),
             ({"decision": "granted", "decided_on": "2000-01-01"}, "раньше регистрации")]
    for data, message in cases:
        response = client.post(url, data=data)
        text = response.get_data(as_text=True)
        assert response.status_code == 422 and message in text, (data, text[-2000:])
    assert 'value="8"' in text or "раньше регистрации" in text
    refused = client.post(url, data={"decision": "refused", "decided_on": day, "reason": "incomplete"})
    assert refused.status_code == 303
    page = client.get("/office/sch1/benefits").get_data(as_text=True)
    assert "отказать: Предоставлен неполный пакет документов" in page


def test_an_order_with_bad_input_is_refused_in_the_form(office: Office) -> None:
    client = _coordinator(office)
    app_id = _register(office)
    day = _today(office).isoformat()
    url = f"/office/sch1/benefits/{app_id}/order"
    early = client.post(url, data={"order_no": "1", "order_date": day})
    assert early.status_code == 422 and "после решения комиссии" in early.get_data(as_text=True)
    assert client.post(f"/office/sch1/benefits/{app_id}/decide",
                       data={"decision": "granted", "decided_on": day}).status_code == 303
    for data, message in [({"order_no": "", "order_date": day}, "Номер приказа"),
                          ({"order_no": "5", "order_date": "13.13.2026"}, "в виде дд.мм.гггг"),
                          ({"order_no": "5", "order_date": day, "ends": "2000-01-01"}, "раньше начала")]:
        response = client.post(url, data=data)
        assert response.status_code == 422 and message in response.get_data(as_text=True), data


def test_documents_handed_in_later_are_marked_and_an_unknown_application_is_a_message(office: Office) -> None:
    client = _coordinator(office)
    app_id = _register(office, received=(1,))
    assert client.post(f"/office/sch1/benefits/{app_id}/documents", data={"received": ALL_DOCS}).status_code == 303
    with office.engine.connect() as conn:
        assert all(d["received"] for d in benefits.application(conn, "sch1", app_id)["documents"])
    bad = client.post(f"/office/sch1/benefits/{app_id}/documents", data={"received": ["x"]})
    assert bad.status_code == 422 and "Номер документа" in bad.get_data(as_text=True)
    gone = client.post("/office/sch1/benefits/nope/decide", data={"decision": "granted", "decided_on": "2026-01-12"},
                       follow_redirects=True)
    assert gone.status_code == 200 and "Заявления nope нет в школе" in gone.get_data(as_text=True)
    undated = client.post("/office/sch1/benefits/nope/order", data={"order_no": "1"})
    assert undated.status_code == 422 and "Укажите дату приказа" in undated.get_data(as_text=True)


def test_overdue_applications_are_highlighted(office: Office) -> None:
    _register(office, days_ago=40)
    page = office.client(Role.COORDINATOR).get("/office/sch1/benefits").get_data(as_text=True)
    assert "Просрочено решение комиссии: 1" in page and 'class="office-overdue"' in page and "просрочено" in page


def test_lists_per_category_and_their_print_view(office: Office) -> None:
    client = office.client(Role.COORDINATOR)
    page = client.get("/office/sch1/benefits/lists").get_data(as_text=True)
    assert "Сидоров Пётр" in page and "10.01.2014" in page and "приказ № 01-04-1 от 01.09.2020" in page
    printed = client.get("/office/sch1/benefits/lists?print=1").get_data(as_text=True)
    assert "Сидоров Пётр" in printed and "office-menu" not in printed and "Выйти" not in printed
