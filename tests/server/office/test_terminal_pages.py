"""«Терминалы»: the list in the school's time with drift, waiting and refused events and the clone
warning; adding (the token shown once), renaming, revoking after a confirmation; the refused events;
the coordinator only reads; bad input answered in Russian."""

from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import insert, select, update

from server.accounts import enroll_terminal
from server.models import RejectedEvent, Terminal
from server.office.roles import Role
from server.web.terminals import drift_text
from tests.server.office.conftest import Office
from tests.server.office.test_pages import _csrf

PAGE = "/office/sch1/terminals"


def _terminal(office: Office, name: str = "окно 1", **values: object) -> str:
    with office.engine.begin() as conn:
        terminal_id, _token = enroll_terminal(conn, "sch1", name=name)
        if values:
            conn.execute(update(Terminal).where(Terminal.id == terminal_id).values(**values))
    return terminal_id


def test_the_list_shows_last_seen_in_school_time_drift_waiting_version_and_the_clone_in_red(office: Office) -> None:
    tid = _terminal(office, last_seen_at=datetime(2026, 3, 10, 1, 40), clock_drift_s=-125.0, outbox_size=7,
                    version="1.4.2", flags="clone")
    page = office.client(Role.COORDINATOR).get(PAGE).get_data(as_text=True)
    assert "10.03.2026 08:40" in page  # 01:40 UTC in Krasnoyarsk
    assert "отстают на 2 мин 5 с" in page and "Ждут отправки\" class=\"office-num\">7</td>" in page and "1.4.2" in page
    assert re.search(r'class="[^"]*office-danger[^"]*"[^>]*>Внимание: токен терминала\s+' + tid, page)
    assert "не на связи" in page
    assert "Добавить терминал" not in page and "Отозвать" not in page  # the coordinator only reads


def test_adding_a_terminal_shows_its_token_once_with_a_warning(office: Office) -> None:
    client = office.client(Role.SCHOOL_ADMIN)
    answer = client.post(PAGE + "/add", data={"csrf_token": _csrf(client, PAGE), "name": "окно 2"})
    text = answer.get_data(as_text=True)
    token = re.search(r'value="([^"]+)" id="office-token"', text)
    assert answer.status_code == 200 and "показывается только один раз" in text and token and token[1]
    assert token[1].startswith("sch1-T1.")
    listing = client.get(PAGE).get_data(as_text=True)
    assert "окно 2" in listing and token[1] not in listing


def test_renaming_and_a_bad_name_answered_in_russian(office: Office) -> None:
    tid = _terminal(office)
    client = office.client(Role.SCHOOL_ADMIN)
    token = _csrf(client, PAGE)
    client.post(PAGE + "/rename", data={"csrf_token": token, "terminal_id": tid, "name": "окно у буфета"})
    assert "окно у буфета" in client.get(PAGE).get_data(as_text=True)
    bad = client.post(PAGE + "/rename", data={"csrf_token": token, "terminal_id": tid, "name": "a\x07b"},
                      follow_redirects=True)
    assert bad.status_code == 200 and "без управляющих" in bad.get_data(as_text=True)
    other = client.post(PAGE + "/rename", data={"csrf_token": token, "terminal_id": "sch2-T1", "name": "x"},
                        follow_redirects=True)
    assert "не найден" in other.get_data(as_text=True)


def test_revoking_asks_for_a_confirmation_first(office: Office) -> None:
    tid = _terminal(office, outbox_size=3)
    client = office.client(Role.SCHOOL_ADMIN)
    token = _csrf(client, PAGE)
    ask = client.post(PAGE + "/revoke", data={"csrf_token": token, "terminal_id": tid})
    assert ask.status_code == 200 and "Да, отозвать токен" in ask.get_data(as_text=True)
    assert "3 неотправленных" in ask.get_data(as_text=True)
    with office.engine.connect() as conn:
        assert conn.execute(select(Terminal.revoked_at).where(Terminal.id == tid)).scalar() is None
    done = client.post(PAGE + "/revoke", data={"csrf_token": token, "terminal_id": tid, "confirm": "yes"},
                       follow_redirects=True)
    assert "отозван" in done.get_data(as_text=True)
    with office.engine.connect() as conn:
        assert conn.execute(select(Terminal.revoked_at).where(Terminal.id == tid)).scalar() is not None
    again = client.post(PAGE + "/revoke", data={"csrf_token": token, "terminal_id": tid, "confirm": "yes"},
                        follow_redirects=True)
    assert "уже отозван" in again.get_data(as_text=True)


def test_rejected_events_are_listed_per_terminal_in_school_time(office: Office) -> None:
    tid, other = _terminal(office), _terminal(office, "окно 2")
    with office.engine.begin() as conn:
        conn.execute(insert(RejectedEvent), [
            {"school_id": "sch1", "terminal_id": t, "event_id": None, "reason": "bad_amount",
             "message": f"сумма вне пределов ({t})", "raw": "{}", "received_at": datetime(2026, 3, 10, 2, 5)}
            for t in (tid, other)])
    client = office.client(Role.COORDINATOR)
    listing = client.get(PAGE).get_data(as_text=True)
    assert f'href="/office/sch1/terminals/rejected?terminal={tid}">1</a>' in listing
    page = client.get(PAGE + "/rejected", query_string={"terminal": tid}).get_data(as_text=True)
    assert "10.03.2026 09:05" in page and f"сумма вне пределов ({tid})" in page and f"({other})" not in page
    for before in ("abc", "-1", "9" * 40):  # garbled paging is ignored, not a 500
        assert client.get(PAGE + "/rejected", query_string={"before": before}).status_code == 200


def test_drift_reads_as_fast_or_slow_in_russian() -> None:
    assert drift_text(None) == "нет данных"
    assert drift_text(2.4) == "точные"
    assert drift_text(3725) == "спешат на 1 ч 2 мин 5 с"
    assert drift_text(-60) == "отстают на 1 мин"
