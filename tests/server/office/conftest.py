"""Two schools of `seed_school` and one office user per role of school sch1 (the teacher holds class 1а)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, select

from server.models import User
from server.office.roles import Grant, Role, Scope
from server.office.users import add_user
from tests.server.kit import seed_school

PASSWORD = "correct-horse-1"
GRANTS = {
    Role.SCHOOL_ADMIN: Grant(Role.SCHOOL_ADMIN, Scope.SCHOOL, "sch1"),
    Role.COORDINATOR: Grant(Role.COORDINATOR, Scope.SCHOOL, "sch1"),
    Role.TEACHER: Grant(Role.TEACHER, Scope.CLASS, "sch1", "1а"),
    Role.CANTEEN: Grant(Role.CANTEEN, Scope.SCHOOL, "sch1"),
    Role.PARENT: Grant(Role.PARENT, Scope.STUDENT, "sch1", "s1"),
    Role.DISTRICT: Grant(Role.DISTRICT, Scope.DISTRICT, None, "nazarovo"),
}


@dataclass
class Office:
    app: Flask
    engine: Engine
    keys: dict[Role, str]  # each role's user's session key
    ids: dict[Role, int]

    def client(self, role: Role | None) -> FlaskClient:
        """A client signed in as the user of `role` (None: nobody), without a password round trip."""
        client = self.app.test_client()
        if role is not None:
            with client.session_transaction() as s:
                s["_user_id"] = self.keys[role]
                s["_fresh"] = True
        return client


@pytest.fixture
def office(app: Flask, engine: Engine) -> Office:
    seed_school(engine, "sch1")
    seed_school(engine, "sch2")
    keys, ids = {}, {}
    with engine.begin() as conn:
        for role, grant in GRANTS.items():
            ids[role] = add_user(conn, role.value, name=f"Пользователь {role.ru}", password=PASSWORD,
                                 grants=[grant])
            keys[role] = conn.execute(select(User.session_key).where(User.id == ids[role])).scalar_one()
    return Office(app, engine, keys, ids)
