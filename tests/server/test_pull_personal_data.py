"""A pull carries only what serving needs: no benefit documents (birth dates: tests/server/test_api.py)."""

from __future__ import annotations

from flask.testing import FlaskClient
from sqlalchemy import Engine

from server.importer import import_rows
from tests.server.kit import enroll, seed_school

REASON = "справка УСЗН № 77 от 28.08.2020"


def pull(client: FlaskClient, token: str, **body: object) -> dict[str, object]:
    answer = client.post("/api/sync/pull", json=body, headers={"Authorization": f"Bearer {token}"})
    assert answer.status_code == 200
    return answer.json  # type: ignore[no-any-return]


def test_entitlements_reach_the_terminal_without_order_number_or_reason(client: FlaskClient, engine: Engine) -> None:
    seed_school(engine)
    _, token = enroll(engine)
    benefit = {"student_id": "s3", "category": "low_income", "order_no": "01-04-1", "order_date": "2020-09-01",
               "reason": REASON}
    with engine.begin() as conn:
        import_rows(conn, "sch1", "benefits", [benefit])
    snapshot = pull(client, token)
    assert snapshot["entitlements"] == [{"id": "s3:low_income:01-04-1", "student_id": "s3", "category": "low_income",
                                         "starts": "2020-09-02", "ends": None}]
    with engine.begin() as conn:  # the office ends the benefit: the delta carries the change, still no documents
        import_rows(conn, "sch1", "benefits", [{**benefit, "ends": "2027-05-31", "reason": REASON + " (продлено)"}])
    delta = pull(client, token, cursor=snapshot["cursor"])
    assert delta["entitlements"] == [{"id": "s3:low_income:01-04-1", "student_id": "s3", "category": "low_income",
                                      "starts": "2020-09-02", "ends": "2027-05-31"}]

