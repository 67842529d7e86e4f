"""Journeys through «Ученики» and «Льготы» in a real browser: a card found by its number and blocked, then
refused by a terminal after its next sync with the live server; an application registered, granted and
ordered, then shown on the student's page. Screenshots of both pages at a desktop's and a phone's size."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from pos.counter import Counter
from pos.decide import Reason
from pos.store import make_engine
from server.accounts import enroll_terminal
from server.db import make_server_engine
from server.models import Card, Entitlement, SchoolClass, Student
from server.office.demo import SCHOOL_ID
from server.office.roles import Role
from sync.client import SyncClient
from tests.browser.test_office import PASSWORDS, sign_in

pytestmark = pytest.mark.slow
SHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
SIZES = {"desktop": {"width": 1366, "height": 768}, "phone": {"width": 390, "height": 844}}


@pytest.fixture
def page(browser: Any) -> Any:
    context = browser.new_context(viewport=SIZES["desktop"], locale="ru-RU")
    yield context.new_page()
    context.close()


def _screenshots(browser: Any, office_url: str, path: str, name: str) -> None:
    """The page at both sizes, signed in as the coordinator, into docs/screenshots (small PNGs)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        context = browser.new_context(viewport=viewport, locale="ru-RU")
        page = context.new_page()
        sign_in(page, office_url, *PASSWORDS[Role.COORDINATOR])
        page.goto(office_url + path)
        page.screenshot(path=str(SHOTS / f"office-{name}-{size}.png"), full_page=False)
        context.close()


def _student_with_card(office_db: str, class_name: str) -> tuple[str, str, str]:
    """(id, name, card) of the first student of a class holding an active card."""
    engine = make_server_engine(office_db)
    try:
        with engine.connect() as conn:
            row = conn.execute(select(Student.id, Student.full_name, Card.uid)
                               .join(Card, (Card.school_id == Student.school_id) & (Card.student_id == Student.id))
                               .join(SchoolClass, (SchoolClass.school_id == Student.school_id)
                                     & (SchoolClass.id == Student.class_id))
                               .where(Student.school_id == SCHOOL_ID, SchoolClass.name == class_name,
                                      Card.blocked.is_(False)).order_by(Student.full_name)).first()
    finally:
        engine.dispose()
    assert row is not None
    return row.id, row.full_name, row.uid


def test_a_card_blocked_in_the_office_is_refused_by_the_terminal_after_its_next_sync(
        browser: Any, page: Any, office_url: str, office_db: str, tmp_path: Path) -> None:
    student_id, name, card = _student_with_card(office_db, "5А")
    engine = make_server_engine(office_db)
    with engine.begin() as conn:
        _terminal, token = enroll_terminal(conn, SCHOOL_ID, name="окно браузерного теста")
    engine.dispose()
    store = make_engine(tmp_path / "terminal.db")
    with SyncClient(store, office_url, token) as client:
        assert client.sync_once().ok
        assert Counter(store).tap_text(card).reason is not Reason.BLOCKED_CARD

        sign_in(page, office_url, *PASSWORDS[Role.COORDINATOR])
        page.get_by_role("link", name="Ученики").click()
        page.wait_for_function("typeof htmx === 'object'")  # the deferred htmx runs the live search
        page.get_by_label("ФИО или номер карты").fill(card)
        page.locator("#results").get_by_role("link", name=name).click()  # the list updates while typing
        expect(page.get_by_role("heading", name=name)).to_be_visible()
        page.get_by_text("Заблокировать или заменить").first.click()
        page.get_by_label("Причина блокировки").first.fill("карта сломана")
        page.get_by_role("button", name="Заблокировать").first.click()
        expect(page.get_by_text("Карта заблокирована: терминалы перестанут её принимать")).to_be_visible()
        expect(page.get_by_text("заблокирована: карта сломана")).to_be_visible()
        _screenshots(browser, office_url, f"/office/{SCHOOL_ID}/students/{student_id}", "student")

        assert client.sync_once().ok
        refused = Counter(store).tap_text(card)
    store.dispose()
    assert not refused.served and refused.reason is Reason.BLOCKED_CARD


def test_an_application_registered_granted_and_ordered_shows_on_the_students_page(
        browser: Any, page: Any, office_url: str, office_db: str) -> None:
    student_id, name, _card = _student_with_card(office_db, "1Б")
    sign_in(page, office_url, *PASSWORDS[Role.COORDINATOR])
    page.get_by_role("link", name="Льготы").click()
    page.get_by_role("button", name="Зарегистрировать заявление").click()
    page.wait_for_function("typeof htmx === 'object'")  # the deferred htmx swaps the checklist in
    page.get_by_label("Ученик").select_option(label=f"{name} (1Б)")
    page.get_by_label("Категория").select_option("ovz")
    checklist = page.locator("#checklist")
    checklist.get_by_text("психолого-медико-педагогической").wait_for()  # htmx swapped the category's list
    for box in checklist.get_by_role("checkbox").all():
        box.check()
    page.get_by_label("Заявитель").fill("Родитель Ученика")
    page.get_by_role("button", name="Зарегистрировать").click()
    expect(page.get_by_text("Заявление зарегистрировано.")).to_be_visible()

    page.get_by_text(f"Документы и решение — {name}").click()
    page.get_by_label("предоставить").check()
    page.get_by_label("Протокол №").fill("12")
    page.get_by_role("button", name="Записать решение").click()
    expect(page.get_by_text("Решение комиссии записано.")).to_be_visible()
    page.get_by_text(f"Приказ — {name}").click()
    page.get_by_label("Приказ №").fill("01-05-99")
    page.get_by_role("button", name="Внести приказ").click()
    expect(page.get_by_text("Приказ внесён.")).to_be_visible()
    _screenshots(browser, office_url, f"/office/{SCHOOL_ID}/benefits", "benefits")

    page.get_by_role("link", name=name).first.click()
    expect(page.get_by_role("cell", name="№ 01-05-99", exact=False)).to_be_visible()
    engine = make_server_engine(office_db)
    with engine.connect() as conn:
        ent = conn.execute(select(Entitlement.category, Entitlement.starts, Entitlement.order_date).where(
            Entitlement.school_id == SCHOOL_ID, Entitlement.student_id == student_id,
            Entitlement.order_no == "01-05-99")).one()
    engine.dispose()
    assert ent.category == "ovz" and (ent.starts - ent.order_date).days == 1
