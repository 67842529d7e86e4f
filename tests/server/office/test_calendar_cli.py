"""`canteen server calendar ...`: the same rules as the pages and the API, Russian refusals."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from server.db import make_server_engine
from server.models import ClassDayOff, Holiday
from tests.server.test_cli import Canteen


@pytest.fixture
def migrated(tmp_path: Path) -> Canteen:
    canteen = Canteen(f"sqlite:///{tmp_path / 'server.db'}")
    assert canteen("db", "upgrade").exit_code == 0
    canteen.school()
    return canteen


def test_set_import_and_show_the_calendar(migrated: Canteen, tmp_path: Path) -> None:
    migrated("import", "sch1", "students", str(_students(tmp_path)))
    done = migrated("calendar", "set", "sch1", "--year", "01.09.2026", "31.05.2027", "--week", "5",
                    "--deadline", "9:30")
    assert done.exit_code == 0 and "5-дневная" in done.output and "09:30" in done.output, done.output
    days = tmp_path / "дни.csv"
    days.write_text("с;по;причина;класс\n31.12.2026;11.01.2027;Зимние каникулы;\n10.12.2026;;Экскурсия;1 а\n",
                    encoding="utf-8")
    done = migrated("calendar", "import", "sch1", str(days))
    assert done.exit_code == 0 and "Загружено строк: 2" in done.output, done.output
    shown = migrated("calendar", "show", "sch1", "--from", "01.12.2026", "--to", "31.01.2027").output
    assert "01.09.2026–31.05.2027" in shown and "31.12.2026–11.01.2027  Зимние каникулы" in shown
    assert "1А: 10.12.2026  Экскурсия  (cli)" in shown
    engine = make_server_engine(migrated.url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Holiday)).scalar() == 12
        assert conn.execute(select(func.count()).select_from(ClassDayOff)).scalar() == 1
    engine.dispose()


def test_bad_input_is_refused_in_russian_and_nothing_is_written(migrated: Canteen, tmp_path: Path) -> None:
    done = migrated("calendar", "set", "sch1", "--year", "31.05.2027", "01.09.2026")
    assert done.exit_code != 0 and "должен быть позже первого" in done.output
    assert "дата ДД.ММ.ГГГГ" in migrated("calendar", "set", "sch1", "--year", "вчера", "31.05.2027").output
    bad = tmp_path / "дни.csv"
    bad.write_text("с;по;причина\n05.12.2026;01.12.2026;Карантин\n10.12.2026;;Карантин\n", encoding="utf-8")
    done = migrated("calendar", "import", "sch1", str(bad))
    assert done.exit_code != 0 and "строка 2: конец периода" in done.output
    engine = make_server_engine(migrated.url)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Holiday)).scalar() == 0
    engine.dispose()


def _students(tmp_path: Path) -> Path:
    path = tmp_path / "ученики.csv"
    path.write_text("Код ученика;ФИО;Класс\ns1;Иванов Иван;1А\n", encoding="utf-8")
    return path
