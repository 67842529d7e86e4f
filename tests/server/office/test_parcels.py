"""Food parcels and compensations: issued per school day at the policy's price (or a given amount), refused
for no school day, a day given twice, garbage; counted in the табель («С», «К») and the monthly report."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Engine, func, select, update

from server.models import AuditEntry, FoodParcel, RoleGrant
from server.office import parcels
from server.office.changes import NotFound, OfficeError
from server.office.roles import Role
from server.reports import monthly, tabel
from server.reports.common import Tally
from tests.server.office.tabel_kit import L3040, L75660, MONTH, SCHOOL, build, d


def test_a_parcel_per_school_day_at_the_policy_price_counts_in_the_registers(engine: Engine) -> None:
    build(engine)
    with engine.begin() as conn:
        # a3: 1А (grade 1, shift 1), ОВЗ, 8 years: breakfast 48,58 + lunch 72,88 = 121,46 a day on 0110075660.
        done = parcels.issue(conn, "коорд", SCHOOL, "a3", d(1), d(6), "parcel", note="на дому")
        # x1 (no benefit): a compensation of 50,00 on 01100L3040 for 07.12.
        parcels.issue(conn, "коорд", SCHOOL, "x1", d(7), d(7), "compensation", amount="50,00", budget_line=L3040)
    # 05.12 and 06.12 are the weekend: 4 school days.
    assert done.days == (d(1), d(2), d(3), d(4)) and len(done.skipped) == 2 and "выходной" in done.skipped[0]
    assert (done.amount_kopecks, done.budget_line, done.category) == (12146, L75660, "ovz")
    with engine.connect() as conn:
        t = tabel.build(conn, SCHOOL, MONTH, class_id="1а")
        r = monthly.build(conn, SCHOOL, MONTH)
        assert conn.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity == "food_parcel")).scalar() == 2
    a3 = next(x for g in t.groups for x in g.rows if x.student_id == "a3")
    assert [a3.cells[t.days.index(d(n))] for n in (1, 2, 3, 4, 7)] == ["С", "С", "С", "С", ""]
    assert a3.totals.days == 4 and a3.totals.parcels == (Tally(4, 48584), Tally())  # 4 × 121,46 = 485,84
    x1 = next(x for g in t.groups for x in g.rows if x.student_id == "x1")
    assert x1.cells[t.days.index(d(7))] == "К" and x1.totals.parcels == (Tally(), Tally(1, 5000))
    assert t.totals.parcels == (Tally(4, 48584), Tally(1, 5000))
    assert [(x.kind, x.category, x.budget_line, x.total) for x in r.parcels] == [
        ("compensation", "", L3040, Tally(1, 5000)), ("parcel", "ovz", L75660, Tally(4, 48584))]
    assert r.by_line[0] == (L75660, Tally(7, 40873), Tally(4, 48584))


@pytest.mark.parametrize(("args", "kw", "message"), [
    (("a3", 5, 6, "parcel"), {}, "нет учебных дней"),
    (("a3", 2, 1, "parcel"), {}, "первый день не позже последнего"),
    (("a3", 1, 2, "ration"), {}, "вид: parcel"),
    (("a3", 1, 2, "parcel"), {"amount": "-5"}, "сумма не может быть отрицательной"),
    (("a3", 1, 2, "parcel"), {"amount": "0"}, "больше 0,00"),
    (("a3", 1, 2, "parcel"), {"category": "martians"}, "не из политики"),
    (("c2", 1, 1, "compensation"), {}, "укажите сумму"),  # 5А, no benefit: the policy gives nothing
])
def test_bad_requests_are_refused_in_russian_and_nothing_is_written(engine: Engine, args: tuple[Any, ...],
                                                                     kw: dict[str, Any], message: str) -> None:
    build(engine)
    student, start, end, kind = args
    with engine.begin() as conn, pytest.raises(OfficeError, match=message):
        parcels.issue(conn, "коорд", SCHOOL, student, d(start), d(end), kind, **kw)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FoodParcel)).scalar() == 0


def test_a_day_given_twice_and_an_unknown_student_are_refused(engine: Engine) -> None:
    build(engine)
    with engine.begin() as conn:
        parcels.issue(conn, "коорд", SCHOOL, "a3", d(1), d(1), "parcel")
    with engine.begin() as conn, pytest.raises(OfficeError, match="уже записан"):
        parcels.issue(conn, "коорд", SCHOOL, "a3", d(1), d(2), "parcel")
    with engine.begin() as conn, pytest.raises(NotFound):
        parcels.issue(conn, "коорд", SCHOOL, "nobody", d(1), d(2), "parcel")


def test_the_page_issues_lists_and_removes(office: Any) -> None:
    build(office.engine)
    with office.engine.begin() as conn:
        conn.execute(update(RoleGrant).where(RoleGrant.role == "coordinator").values(school_id=SCHOOL))
    office.app.config["WTF_CSRF_ENABLED"] = False
    client = office.client(Role.COORDINATOR)
    got = client.post(f"/office/{SCHOOL}/parcels", data={"student_id": "a3", "kind": "parcel", "start": "2026-12-01",
                                                         "end": "2026-12-02"})
    text = got.get_data(as_text=True)
    assert got.status_code == 200 and "Записано на 2 уч. дн.: 01.12.2026, 02.12.2026." in text
    assert "Вершинин Антон" in text and "121,46" in text
    got = client.post(f"/office/{SCHOOL}/parcels", data={"student_id": "a3", "kind": "parcel", "start": "вчера"})
    assert got.status_code == 422 and "ДД.ММ.ГГГГ" in got.get_data(as_text=True)
    with office.engine.connect() as conn:
        first = conn.execute(select(func.min(FoodParcel.id))).scalar_one()
    got = client.post(f"/office/{SCHOOL}/parcels/remove", data={"parcel_id": str(first), "month": "2026-12"})
    assert got.status_code == 302
    got = client.post(f"/office/{SCHOOL}/parcels/remove", data={"parcel_id": "x"})
    assert got.status_code == 422 and "Не выбрана запись" in got.get_data(as_text=True)
    with office.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(FoodParcel)).scalar() == 1
    assert client.get(f"/office/{SCHOOL}/parcels?month=2026-99").status_code == 400
