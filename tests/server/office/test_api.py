"""The office's JSON API: the services through a door, own school only, Russian 4xx for bad input."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine

from tests.server.kit import make_admin, seed_school


def token(client: FlaskClient, login: str = "admin") -> dict[str, str]:
    answer = client.post("/api/auth/login", json={"login": login, "password": "secret-pass"})
    assert answer.status_code == 200, answer.json
    return {"Authorization": f"Bearer {answer.json['token']}"}


@pytest.fixture
def office(client: FlaskClient, engine: Engine) -> dict[str, str]:
    seed_school(engine)
    make_admin(engine, school_id="sch1")
    return token(client)


def test_search_and_student_card_through_the_api(client: FlaskClient, office: dict[str, str]) -> None:
    found = client.get("/api/schools/sch1/students?q=петр сидоров", headers=office).json["students"]
    assert [(s["id"], s["categories"], s["birth_date"]) for s in found] == [("s3", ["low_income"], "2014-01-10")]
    card = client.get("/api/schools/sch1/students/s4", headers=office).json
    assert card["account"]["balance_kopecks"] == 50000 and card["cards"][0]["uid"] == "EM:0000000004"
    assert client.get("/api/schools/sch1/students/nobody", headers=office).status_code == 404


def test_an_admin_of_another_school_cannot_block_its_cards(client: FlaskClient, engine: Engine,
                                                           office: dict[str, str]) -> None:
    seed_school(engine, "sch2")
    make_admin(engine, "other", school_id="sch2")
    answer = client.post("/api/schools/sch1/cards/EM:0000000001/block", json={"reason": "x"},
                         headers=token(client, "other"))
    assert answer.status_code == 403
    card = client.get("/api/schools/sch1/students/s1", headers=office).json["cards"][0]
    assert not card["blocked"]


def test_block_through_the_api_then_twice_is_a_conflict_in_russian(client: FlaskClient, office: dict[str, str]) -> None:
    ok = client.post("/api/schools/sch1/cards/0000000001/block", json={"reason": "сломана"}, headers=office)
    assert ok.status_code == 200 and ok.json["blocked"] and ok.json["uid"] == "EM:0000000001"
    again = client.post("/api/schools/sch1/cards/EM:0000000001/block", json={"reason": "сломана"}, headers=office)
    assert again.status_code == 422 and "уже заблокирована" in again.json["message"]


def test_an_application_runs_from_registration_to_the_order(client: FlaskClient, office: dict[str, str]) -> None:
    made = client.post("/api/schools/sch1/applications", headers=office, json={
        "student_id": "s5", "category": "ovz", "registered_on": "01.10.2026", "received": [1]})
    assert made.status_code == 201, made.json
    app_id = made.json["id"]
    assert [d["received"] for d in made.json["documents"]] == [True, False]
    refused = client.post(f"/api/schools/sch1/applications/{app_id}/decision", headers=office,
                          json={"granted": True, "decided_on": "2026-10-05"})
    assert refused.status_code == 422 and "не хватает документов" in refused.json["message"]
    assert [a["id"] for a in client.get("/api/schools/sch1/applications/overdue", headers=office).json[
        "applications"]] == [app_id]  # registered 01.10.2026, long past its 10 working days
    refuse = client.post(f"/api/schools/sch1/applications/{app_id}/decision", headers=office,
                         json={"granted": False, "decided_on": "2026-10-05", "reason": "incomplete"})
    assert refuse.status_code == 200 and refuse.json["status"] == "refused"
    ordered = client.post(f"/api/schools/sch1/applications/{app_id}/order", headers=office,
                          json={"order_no": "01-04-300", "order_date": "2026-10-06"})
    assert ordered.status_code == 200 and ordered.json["order_no"] == "01-04-300"
    assert ordered.json["entitlement_id"] is None  # a refusal's order grants nothing
    assert client.get("/api/schools/sch1/applications/overdue", headers=office).json["applications"] == []


@pytest.mark.parametrize(("path", "body"), [
    ("/api/schools/sch1/applications", {"student_id": "s5", "category": "ovz", "registered_on": "вчера"}),
    ("/api/schools/sch1/applications", {"student_id": 5, "category": "ovz", "registered_on": "2026-10-01"}),
    ("/api/schools/sch1/applications", {"student_id": "s5", "category": "кошки", "registered_on": "2026-10-01"}),
    ("/api/schools/sch1/applications", {"student_id": "s5", "category": "ovz", "registered_on": "2026-10-01",
                                        "received": [0, "a"]}),
    ("/api/schools/sch1/applications/nope/decision", {"granted": "да", "decided_on": "2026-10-01"}),
    ("/api/schools/sch1/applications/nope/order", {"order_no": "1", "order_date": "2026-10-01"}),
    ("/api/schools/sch1/cards/EM:0000000001/block", {"reason": None}),
    ("/api/schools/sch1/cards/нет/block", {"reason": "x"}),
    ("/api/schools/none/applications", {"student_id": "s5", "category": "ovz", "registered_on": "2026-10-01"}),
])
def test_bad_office_input_gets_a_russian_4xx_never_500(client: FlaskClient, office: dict[str, str], path: str,
                                                       body: Any) -> None:
    answer = client.post(path, json=body, headers=office)
    assert 400 <= answer.status_code < 500 and answer.json["message"]


def test_lists_per_category_through_the_api(client: FlaskClient, office: dict[str, str]) -> None:
    lists = client.get("/api/schools/sch1/benefits/lists?date=2026-10-01", headers=office).json["lists"]
    assert [(r["student_id"], r["class_name"], r["starts"]) for r in lists["low_income"]] == [
        ("s3", "5А", "2020-09-02")]
    assert client.get("/api/schools/sch1/benefits/lists?date=завтра", headers=office).status_code == 400
