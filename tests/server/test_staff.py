"""Staff of the serving windows, set in the office: the service, the CLI, and what a pull carries."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, Row, select

from pos.models import StaffMember as TerminalStaff
from pos.pins import pin_matches
from pos.store import make_engine
from server.models import School, StaffMember
from server.office.staff import StaffError, add_staff, change_pin, deactivate, listing
from sync.client import SyncClient
from sync.wire import PULL_PATH
from tests.server.kit import enroll, seed_school
from tests.server.test_cli import Canteen


def school_rev(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(School.rev).where(School.id == "sch1")).scalar_one())


def stored(engine: Engine, staff_id: str) -> Row[tuple[str, int]]:
    with engine.connect() as conn:
        return conn.execute(select(StaffMember.pin_hash, StaffMember.rev).where(StaffMember.id == staff_id)).one()


def values(data: object) -> Iterator[object]:
    """Every value in a JSON document, however deep."""
    if isinstance(data, dict):
        for item in data.values():
            yield from values(item)
    elif isinstance(data, list):
        for item in data:
            yield from values(item)
    else:
        yield data


def test_added_staff_is_listed_with_a_salted_hash_and_a_new_rev(engine: Engine) -> None:
    seed_school(engine)
    before = school_rev(engine)
    with engine.begin() as conn:
        first = add_staff(conn, "sch1", "  Петрова   Мария ", "2468")
        second = add_staff(conn, "sch1", "Иванова А. С.", "2468")
    assert school_rev(engine) == before + 2
    with engine.connect() as conn:
        assert listing(conn, "sch1") == [{"id": second, "name": "Иванова А. С.", "active": True},
                                         {"id": first, "name": "Петрова Мария", "active": True}]
    one, two = stored(engine, first), stored(engine, second)
    assert one.pin_hash.startswith("pbkdf2_sha256$100000$")
    assert one.pin_hash != two.pin_hash  # salted: the same PIN makes another hash
    assert pin_matches("2468", one.pin_hash) and not pin_matches("2469", one.pin_hash)


@pytest.mark.parametrize("pin", ["123", "1234567", "12a4", "", " 1234", "١٢٣٤"])
def test_a_pin_that_is_not_4_to_6_digits_is_refused_and_nothing_is_added(engine: Engine, pin: str) -> None:
    seed_school(engine)
    with pytest.raises(StaffError, match="от 4 до 6 цифр"), engine.begin() as conn:
        add_staff(conn, "sch1", "Петрова", pin)
    with engine.connect() as conn:
        assert listing(conn, "sch1") == []


@pytest.mark.parametrize(("school", "name", "error"), [
    ("nope", "Петрова", "не найдена"), ("sch1", "   ", "имя сотрудника"), ("sch1", "Пет\x00рова", "имя сотрудника"),
    ("sch1", "П" * 101, "имя сотрудника"), ("sch1", "Петрова", "уже есть")])
def test_bad_staff_is_refused_in_russian(engine: Engine, school: str, name: str, error: str) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        add_staff(conn, "sch1", "Петрова", "1111")
    with pytest.raises(StaffError, match=error), engine.begin() as conn:
        add_staff(conn, school, name, "2222")


def test_changed_pin_replaces_the_old_one_and_takes_a_rev(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        staff_id = add_staff(conn, "sch1", "Петрова", "1111")
    before = school_rev(engine)
    with engine.begin() as conn:
        change_pin(conn, "sch1", staff_id, "98765")
    row = stored(engine, staff_id)
    assert pin_matches("98765", row.pin_hash) and not pin_matches("1111", row.pin_hash)
    assert row.rev == school_rev(engine) == before + 1
    with pytest.raises(StaffError, match="от 4 до 6 цифр"), engine.begin() as conn:
        change_pin(conn, "sch1", staff_id, "12")
    with pytest.raises(StaffError, match="не найден"), engine.begin() as conn:
        change_pin(conn, "sch1", "unknown", "1234")


def test_deactivated_staff_stays_listed_as_removed_and_cannot_be_changed(engine: Engine) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        staff_id = add_staff(conn, "sch1", "Петрова", "1111")
        deactivate(conn, "sch1", staff_id)
    with engine.connect() as conn:
        assert listing(conn, "sch1") == [{"id": staff_id, "name": "Петрова", "active": False}]
    with pytest.raises(StaffError, match="уже удалён"), engine.begin() as conn:
        deactivate(conn, "sch1", staff_id)
    with engine.begin() as conn:  # the name is free again
        add_staff(conn, "sch1", "Петрова", "2222")


def pull(client: FlaskClient, token: str, cursor: str | None = None) -> dict[str, object]:
    response = client.post(PULL_PATH, json={"cursor": cursor} if cursor else {},
                           headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    answer = response.json
    assert isinstance(answer, dict)
    assert not {"2468", "13579"} & {str(v) for v in values(answer)}  # the PIN never travels
    return answer


def test_pull_carries_staff_with_the_hash_and_deltas_carry_changes(engine: Engine, client: FlaskClient) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        staff_id = add_staff(conn, "sch1", "Петрова", "2468")
        gone = add_staff(conn, "sch1", "Сидорова", "2468")
        deactivate(conn, "sch1", gone)
    _, token = enroll(engine)
    snapshot = pull(client, token)
    assert snapshot["staff"] == [{"id": staff_id, "name": "Петрова", "pin_hash": stored(engine, staff_id).pin_hash,
                                  "active": True}]  # a snapshot leaves out who was removed
    with engine.begin() as conn:
        change_pin(conn, "sch1", staff_id, "13579")
    changed = pull(client, token, str(snapshot["cursor"]))
    assert changed["staff"] == [{"id": staff_id, "name": "Петрова", "pin_hash": stored(engine, staff_id).pin_hash,
                                 "active": True}]
    with engine.begin() as conn:
        deactivate(conn, "sch1", staff_id)
    removed = pull(client, token, str(changed["cursor"]))
    assert [(s["id"], s["active"]) for s in removed["staff"]] == [(staff_id, False)]  # type: ignore[attr-defined]
    assert pull(client, token, str(removed["cursor"]))["staff"] == []


def test_terminal_store_receives_staff_and_their_new_pin(app: Flask, engine: Engine, tmp_path: Path) -> None:
    seed_school(engine)
    with engine.begin() as conn:
        staff_id = add_staff(conn, "sch1", "Петрова", "2468")
    _, token = enroll(engine)
    store = make_engine(tmp_path / "terminal.db")
    client = SyncClient(store, "http://server", token, transport=httpx.WSGITransport(app=app))

    def on_terminal() -> list[tuple[str, str, bool, str]]:
        with store.connect() as conn:
            return [tuple(r) for r in conn.execute(select(
                TerminalStaff.id, TerminalStaff.name, TerminalStaff.active, TerminalStaff.pin_hash))]

    assert client.sync_once().ok
    [(got_id, name, active, pin_hash)] = on_terminal()
    assert (got_id, name, active) == (staff_id, "Петрова", True) and pin_matches("2468", pin_hash)
    with engine.begin() as conn:
        change_pin(conn, "sch1", staff_id, "13579")
    assert client.sync_once().ok
    [(_, _, _, pin_hash)] = on_terminal()
    assert pin_matches("13579", pin_hash) and not pin_matches("2468", pin_hash)
    store.dispose()


# -- the CLI ----------------------------------------------------------------------------------------------

@pytest.fixture
def canteen(db_url: str, engine: Engine) -> Canteen:
    seed_school(engine)
    return Canteen(db_url)


def test_cli_adds_with_a_pin_asked_twice_lists_and_removes(canteen: Canteen, engine: Engine) -> None:
    added = canteen("staff", "add", "sch1", "Петрова М. И.", input="2468\n2468\n")
    assert added.exit_code == 0, added.output
    assert "2468" not in added.output  # asked without echo
    [row] = listing_of(engine)
    assert row["name"] == "Петрова М. И." and pin_matches("2468", stored(engine, row["id"]).pin_hash)
    shown = canteen("staff", "list", "sch1")
    assert shown.exit_code == 0 and f"{row['id']}  Петрова М. И." in shown.output and "удалён" not in shown.output
    removed = canteen("staff", "remove", "sch1", row["id"])
    assert removed.exit_code == 0, removed.output
    assert "(удалён)" in canteen("staff", "list", "sch1").output
    again = canteen("staff", "remove", "sch1", row["id"])
    assert again.exit_code == 1 and "уже удалён" in again.output


def test_cli_takes_the_pin_from_the_environment_and_changes_it(canteen: Canteen, engine: Engine) -> None:
    added = canteen("staff", "add", "sch1", "Петрова", env={"CANTEEN_STAFF_PIN": "1357"})
    assert added.exit_code == 0, added.output
    [row] = listing_of(engine)
    assert pin_matches("1357", stored(engine, row["id"]).pin_hash)
    changed = canteen("staff", "pin", "sch1", row["id"], input="864200\n864200\n")
    assert changed.exit_code == 0, changed.output
    assert pin_matches("864200", stored(engine, row["id"]).pin_hash)


@pytest.mark.parametrize(("typed", "error"), [("2468\n2469\n", "не совпадают"), ("12\n12\n", "от 4 до 6 цифр"),
                                              ("", "не введён")])
def test_cli_refuses_a_bad_pin_and_adds_no_one(canteen: Canteen, engine: Engine, typed: str, error: str) -> None:
    refused = canteen("staff", "add", "sch1", "Петрова", input=typed)
    assert refused.exit_code == 1 and error in refused.output
    assert listing_of(engine) == []


def test_cli_lists_a_school_without_staff(canteen: Canteen) -> None:
    shown = canteen("staff", "list", "sch1")
    assert shown.exit_code == 0 and "нет" in shown.output


def listing_of(engine: Engine) -> list[dict[str, object]]:
    with engine.connect() as conn:
        return listing(conn, "sch1")
