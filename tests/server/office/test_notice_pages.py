"""«Уведомления» (/parent/notices): a parent sees the choices and the threshold, saves them, and a bad threshold
stays in the form with a Russian message; other roles get 403; the form needs its CSRF token."""

from __future__ import annotations

from sqlalchemy import select

from server import notices
from server.models import NoticePreference
from server.office.roles import Role
from tests.server.office.conftest import Office
from tests.server.office.forms import token_in

URL = "/parent/notices"


def _saved(office: Office) -> list[tuple[bool, bool, bool, int]]:
    with office.engine.connect() as conn:
        return [tuple(r) for r in conn.execute(select(  # type: ignore[misc]
            NoticePreference.balance_low, NoticePreference.card_blocked, NoticePreference.application,
            NoticePreference.threshold_kopecks).where(NoticePreference.user_id == office.ids[Role.PARENT]))]


def test_a_parent_sees_every_notice_on_and_the_default_threshold(office: Office) -> None:
    page = office.client(Role.PARENT).get(URL).get_data(as_text=True)
    assert page.count("checked") == 3 and 'name="threshold" value="100,00"' in page
    assert "Баланс лицевого счёта ниже порога" in page and "по умолчанию 100,00 ₽" in page


def test_a_parent_saves_the_choice_and_sees_it_again(office: Office) -> None:
    client = office.client(Role.PARENT)
    token = token_in(client.get(URL).get_data(as_text=True))
    answer = client.post(URL, data={"csrf_token": token, "balance_low": "1", "threshold": "250,5"})
    assert answer.status_code == 303 and answer.headers["Location"].endswith(URL)
    assert _saved(office) == [(True, False, False, 25050)]
    page = client.get(URL).get_data(as_text=True)
    assert "Настройки уведомлений сохранены." in page and 'value="250,50"' in page and page.count("checked") == 1
    with office.engine.connect() as conn:
        assert notices.preferences(conn, office.ids[Role.PARENT]).threshold_kopecks == 25050


def test_a_bad_threshold_is_shown_in_the_form_and_nothing_is_saved(office: Office) -> None:
    office.app.config["WTF_CSRF_ENABLED"] = False
    client = office.client(Role.PARENT)
    for typed, message in [("12,5О", "Порог баланса: сумма должна быть в рублях с копейками, например «48,58», "
                                     "а не «12,5О»."),
                           ("", "Укажите порог баланса в рублях"), ("99999", "не больше 10\u202f000,00 ₽"),
                           ("x" * 5000, "а не «xxxx")]:
        answer = client.post(URL, data={"card_blocked": "1", "threshold": typed})
        page = answer.get_data(as_text=True)
        assert answer.status_code == 422 and message in page, (typed, page[-2000:])
        assert 'aria-invalid="true"' in page and page.count("checked") == 1
    assert _saved(office) == []


def test_other_roles_get_403_and_the_form_needs_its_csrf_token(office: Office) -> None:
    for role in (Role.SCHOOL_ADMIN, Role.TEACHER, Role.DISTRICT):
        assert office.client(role).get(URL).status_code == 403
    office.app.config["WTF_CSRF_ENABLED"] = True
    answer = office.client(Role.PARENT).post(URL, data={"balance_low": "1", "threshold": "100"})
    assert answer.status_code == 400 and _saved(office) == []
