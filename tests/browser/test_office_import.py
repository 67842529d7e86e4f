"""The «Загрузка» journey in a real browser: a school's CSV uploaded, the difference seen (one to add, one
to change, one leaving with money and its warning), a column's mapping changed, confirmed, the result;
the preview's screenshot for the README (docs/screenshots/import-preview.png)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect
from sqlalchemy import select, update
from werkzeug.serving import make_server

from pos.money import format_rub
from server.app import create_app, state
from server.migrate import upgrade
from server.models import Student
from server.office.roles import Grant, Role, Scope
from server.office.users import add_user
from tests.browser.test_office import sign_in
from tests.server.kit import seed_school

pytestmark = pytest.mark.slow
DOCS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
CSV = "\r\n".join([
    "Список учащихся МБОУ СОШ № 1 на 01.09;;;;;",
    "Фамилия;Имя;Отчество;Класс;Дата рождения;Диета",
    "Иванов;Иван;;1а;01.03.2018;",
    "Петрова;Анна;;1а;02.05.2018;без молока",  # a new diet note
    "Сидоров;Пётр;;5а;10.01.2014;",
    "Орлова;Мария;;5а;11.02.2014;",
    "Волков;Олег;;1а;13.04.2018;",
    "Новикова;Алёна;Сергеевна;5 А;07.06.2014;",  # new; Козлов Егор (1 350,50 ₽) is not in the list
]).encode("cp1251")


@pytest.fixture(scope="module")
def school(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    url = f"sqlite:///{tmp_path_factory.mktemp('import') / 'office.db'}"
    upgrade(url)
    app = create_app({"database_url": url, "secret_key": "browser-tests"})
    engine = state(app).engine
    seed_school(engine, "sch1")
    with engine.begin() as conn:
        add_user(conn, "zavuch", name="Смирнова Ольга Петровна", password="zavuch-pass",
                 grants=[Grant(Role.SCHOOL_ADMIN, Scope.SCHOOL, "sch1")])
        conn.execute(update(Student).where(Student.id == "s5").values(balance_kopecks=135050))
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", engine
    finally:
        server.shutdown()
        thread.join()
        engine.dispose()


def test_a_csv_is_previewed_remapped_confirmed_and_imported(browser: Any, school: tuple[str, Any],
                                                             tmp_path: Path, shots: Path) -> None:
    base, engine = school
    upload = tmp_path / "ученики.csv"
    upload.write_bytes(CSV)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="ru-RU")
    page = context.new_page()
    sign_in(page, base, "zavuch", "zavuch-pass")
    page.get_by_role("navigation", name="Разделы").get_by_role("link", name="Загрузка").click()
    page.get_by_label("Файл").set_input_files(str(upload))
    page.get_by_label("Это полный список школы").check()
    page.get_by_role("button", name="Показать, что изменится").click()

    expect(page.get_by_role("heading", name="Проверьте, что изменится")).to_be_visible()
    added = page.locator("h2:text('Добавить') + div table")
    assert added.locator("tbody tr").all_inner_texts() == ["Новикова Алёна Сергеевна\t5А\t07.06.2014"]
    changed = page.locator("h2:text('Изменить') + div table")
    assert changed.locator("tbody tr").all_inner_texts() == ["Петрова Анна\tОсобенности питания\t—\tбез молока"]
    leaving = page.locator("h2:text('Отчислить') + div table")
    assert leaving.locator("tbody tr").all_inner_texts() == [f"Козлов Егор\t5А\t{format_rub(135050)}"]
    warning = f"у выбывающих учеников на счетах {format_rub(135050)}"
    assert warning in page.get_by_role("alert").inner_text()
    DOCS.mkdir(exist_ok=True)
    page.screenshot(path=str(DOCS / "import-preview.png"), full_page=True)
    with engine.connect() as conn:  # nothing written yet
        assert conn.execute(select(Student).where(Student.full_name.like("Новикова%"))).first() is None

    page.get_by_label("Столбец 3: Отчество").select_option(label="не загружать")
    page.get_by_role("button", name="Показать с этими столбцами").click()
    assert added.locator("tbody tr").all_inner_texts() == ["Новикова Алёна\t5А\t07.06.2014"]
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(shots / "import-preview-phone.png"), full_page=True)
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    page.get_by_label("Деньги учтены").check()
    page.get_by_role("button", name="Загрузить", exact=True).click()
    expect(page.get_by_role("heading", name="Список загружен")).to_be_visible()
    assert "Добавлено: 1, изменено: 1" in page.get_by_role("status").inner_text()
    with engine.connect() as conn:
        rows = {s.full_name: s for s in conn.execute(select(Student).where(Student.school_id == "sch1"))}
    assert rows["Новикова Алёна"].active and rows["Петрова Анна"].diet_note == "без молока"
    assert not rows["Козлов Егор"].active and rows["Козлов Егор"].balance_kopecks == 135050
    context.close()
