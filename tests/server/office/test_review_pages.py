"""«Сверка» in the browser's terms: filters, Russian kinds and money, resolving with the fingerprints
shown (a changed item refuses, nothing resolved), history, export, bad input answered in Russian."""

from __future__ import annotations

import csv
import html
import io
import re
from datetime import timedelta

from sqlalchemy import func, select

from server.models import ReviewResolution
from server.office.roles import Role
from tests.server.kit import school_today
from tests.server.office.conftest import Office
from tests.server.office.test_pages import _csrf
from tests.server.office.test_today import _store, event

QUEUE = "/office/sch1/reviews"


def _twice_yesterday(office: Office) -> None:
    day = school_today() - timedelta(days=1)
    _store(office.engine, event(1, day, "s1"), event(2, day, "s1", terminal_id="sch1-T2"))


def _pick(page: str, kind: str = "served_twice") -> str:
    values = [html.unescape(v) for v in re.findall(r'name="pick" value="([^"]+)"', page)]
    return next(v for v in values if f'"{kind}"' in v)


def _resolutions(office: Office) -> int:
    with office.engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ReviewResolution)).scalar_one())


def test_the_queue_lists_items_in_russian_and_a_resolved_item_leaves_the_open_list(office: Office) -> None:
    _twice_yesterday(office)
    client = office.client(Role.COORDINATOR)
    page = client.get(QUEUE).get_data(as_text=True)
    assert ">выдано повторно</td>" in page and ">Иванов Иван</td>" in page
    assert "48,58 ₽" in page and "завтрак" in page
    token = _csrf(client, QUEUE)
    answer = client.post(QUEUE + "/resolve", data={"csrf_token": token, "pick": _pick(page), "reason": "serving_error",
                                                    "comment": "два окна без связи", "status": "open"})
    assert answer.status_code == 303
    after = client.get(answer.headers["Location"]).get_data(as_text=True)
    assert "Решено расхождений: 1." in after and ">выдано повторно</td>" not in after
    resolved = client.get(QUEUE, query_string={"status": "resolved"}).get_data(as_text=True)
    assert ">выдано повторно</td>" in resolved
    assert "ошибка на раздаче" in resolved and "два окна без связи" in resolved  # the history


def test_an_item_changed_after_it_was_shown_is_refused_in_russian_and_nothing_is_resolved(office: Office) -> None:
    _twice_yesterday(office)
    client = office.client(Role.SCHOOL_ADMIN)
    page = client.get(QUEUE).get_data(as_text=True)
    others = [html.unescape(v) for v in re.findall(r'name="pick" value="([^"]+)"', page) if "served_twice" not in v]
    _store(office.engine, event(3, school_today() - timedelta(days=1), "s1", terminal_id="sch1-T3"))
    answer = client.post(QUEUE + "/resolve", data={"csrf_token": _csrf(client, QUEUE), "reason": "absent",
                                                    "pick": [_pick(page), *others], "comment": "мой комментарий"})
    text = answer.get_data(as_text=True)
    assert answer.status_code == 409
    assert "изменилось после показа" in text and "Ничего не решено" in text and "мой комментарий" in text
    assert _resolutions(office) == 0


def test_the_filters_narrow_the_list_by_kind_and_class(office: Office) -> None:
    _twice_yesterday(office)
    client = office.client(Role.COORDINATOR)
    assert "Иванов Иван" not in client.get(QUEUE, query_string={"kind": "ordered_not_served"}).get_data(as_text=True)
    twice = client.get(QUEUE, query_string={"kind": "served_twice"}).get_data(as_text=True)
    assert ">выдано повторно</td>" in twice and ">выдано без заказа</td>" not in twice
    assert "Иванов Иван" not in client.get(QUEUE, query_string={"class": "5а"}).get_data(as_text=True)


def test_days_after_today_never_appear_even_when_asked_for(office: Office) -> None:
    tomorrow = school_today() + timedelta(days=1)
    _store(office.engine, event(1, tomorrow, "s5"), event(2, tomorrow, "s5", terminal_id="sch1-T2"))
    page = office.client(Role.COORDINATOR).get(QUEUE, query_string={
        "start": f"{tomorrow:%d.%m.%Y}", "end": f"{tomorrow + timedelta(days=3):%d.%m.%Y}"}).get_data(as_text=True)
    assert "Козлов Егор" not in page and "Расхождений за этот период нет" in page


def test_bad_filters_get_a_russian_error_and_keep_what_was_typed(office: Office) -> None:
    client = office.client(Role.COORDINATOR)
    for query, message in (({"start": "31.02.2026"}, "дд.мм.гггг"), ({"end": "завтра"}, "дд.мм.гггг"),
                           ({"start": "10.03.2026", "end": "01.03.2026"}, "позже его конца"),
                           ({"start": "01.01.2020", "end": "01.01.2026"}, "не длиннее"),
                           ({"kind": "nonsense"}, "Неизвестный вид"), ({"class": "9я"}, "Такого класса"),
                           ({"status": "closed"}, "Состояние")):
        answer = client.get(QUEUE, query_string=query)
        assert (answer.status_code, message in answer.get_data(as_text=True)) == (400, True), query
    assert 'value="31.02.2026"' in client.get(QUEUE, query_string={"start": "31.02.2026"}).get_data(as_text=True)


def test_a_bad_resolve_form_is_answered_in_russian_and_resolves_nothing(office: Office) -> None:
    _twice_yesterday(office)
    client = office.client(Role.COORDINATOR)
    page = client.get(QUEUE).get_data(as_text=True)
    token = _csrf(client, QUEUE)
    for data, message in (({"pick": _pick(page), "reason": ""}, "Причина: одна из"),
                          ({"pick": _pick(page), "reason": "other", "comment": " "}, "нужен комментарий"),
                          ({"reason": "absent"}, "Не выбрано ни одного"),
                          ({"pick": "[1, 2", "reason": "absent"}, "искажён при отправке"),
                          ({"pick": '["2026-13-01", "s1", "breakfast", "served_twice", "x"]', "reason": "absent"},
                           "искажён при отправке"),
                          ({"pick": '["2026-03-01", "s1", "breakfast", "served_twice", "x"]', "reason": "absent"},
                           "не найдено")):
        answer = client.post(QUEUE + "/resolve", data={"csrf_token": token, **data})
        assert (answer.status_code, message in answer.get_data(as_text=True)) == (422, True), data
    assert _resolutions(office) == 0


def test_the_export_gives_xlsx_and_a_russian_csv_and_refuses_a_bad_format(office: Office) -> None:
    _twice_yesterday(office)
    client = office.client(Role.COORDINATOR)
    xlsx = client.get(QUEUE + "/export", query_string={"format": "xlsx"})
    assert xlsx.status_code == 200 and xlsx.data[:2] == b"PK" and "sverka-sch1-" in xlsx.headers["Content-Disposition"]
    text = client.get(QUEUE + "/export", query_string={"format": "csv", "kind": "served_twice"}
                      ).data.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0][0] == "Дата" and [r[5] for r in rows[1:]] == ["выдано повторно"]
    bad = client.get(QUEUE + "/export", query_string={"format": "pdf"})
    assert bad.status_code == 400 and "xlsx или csv" in bad.get_data(as_text=True)
    assert client.get(QUEUE + "/export", query_string={"start": "1.1"}).status_code == 400


def test_today_shows_open_items_per_kind_linked_to_the_queue_and_the_month_chart(office: Office) -> None:
    _twice_yesterday(office)
    page = office.client(Role.COORDINATOR).get("/office/sch1/today").get_data(as_text=True)
    link = re.search(r'<a href="([^"]+)">Выдано повторно</a>: 1', page)
    assert link, page
    assert "kind=served_twice" in html.unescape(link[1])
    assert "<svg" in page and "заказано" in page and f"{school_today():%d.%m}" in page
    assert 'hx-trigger="every 30s"' in page  # the live table still refreshes itself
    canteen = office.client(Role.CANTEEN).get("/office/sch1/today").get_data(as_text=True)
    assert "<svg" in canteen and "Выдано повторно" not in canteen  # the queue is not the canteen's


def test_today_s_counts_are_kept_while_nothing_changes_and_follow_new_events_and_resolutions(
        office: Office) -> None:
    from server.db import take_revs

    client = office.client(Role.COORDINATOR)
    twice = re.compile(r'<a href="[^"]+">Выдано повторно</a>: 1')
    assert not twice.search(client.get("/office/sch1/today").get_data(as_text=True))
    _twice_yesterday(office)  # written without a rev: what the office would not see before the next change
    assert not twice.search(client.get("/office/sch1/today").get_data(as_text=True))
    with office.engine.begin() as conn:
        take_revs(conn, "sch1")  # as every push and every office change does
    assert twice.search(client.get("/office/sch1/today").get_data(as_text=True))
    queue = client.get(QUEUE).get_data(as_text=True)
    client.post(QUEUE + "/resolve", data={"csrf_token": _csrf(client, QUEUE), "pick": _pick(queue),
                                          "reason": "serving_error", "comment": "два окна", "status": "open"})
    assert not twice.search(client.get("/office/sch1/today").get_data(as_text=True))
