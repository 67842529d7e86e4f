"""Benefits as the seeds run them: the application (заявление) with its documents checklist, the
commission's decision, the director's order (приказ) that makes the entitlement, deadlines and lists.

- The checklist of an application is the policy's list for its category (`Policy.documents`).
- The commission grants only a complete application; it refuses with one of the policy's reasons.
- The order makes the entitlement start the day after it (seed 004 п. 1.18) and last to the end of the
  school year — 31 May, the last day of lessons — unless the order gives an end date.
- A decision is due within 10 working days (Mon–Fri, not the school's holidays) of the registration;
  an application registered in the summer, before 1 September, by 7 September (seed 004 п. 1.15.2–3).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Connection, insert, select, update

from pos.policy import Policy, parse_policy
from server import notices
from server.accounts import utcnow
from server.models import ApplicationDocument, BenefitApplication, Entitlement, Holiday, School, SchoolClass, Student
from server.office.changes import NotFound, OfficeError, change
from server.office.changes import today as school_today

DECISION_WORKING_DAYS = 10
SCHOOL_YEAR_END = (5, 31)  # 31 May: the last day of lessons, so of meals
REGISTERED, GRANTED, REFUSED = "registered", "granted", "refused"
STATUS_RU = {REGISTERED: "на рассмотрении", GRANTED: "предоставить", REFUSED: "отказать"}
TEXT_MAX = 64  # order and protocol numbers
NOTE_MAX = 2000


def school_year_end(day: date) -> date:
    """The last day of the school year `day` falls in; a summer day belongs to the coming year."""
    year = day.year + 1 if day.month >= 6 else day.year
    return date(year, *SCHOOL_YEAR_END)


def _year_end(conn: Connection, school_id: str, starts: date) -> date:
    """The last day of the school's year as its calendar sets it (`server.office.calendar`), when `starts`
    falls in it; else the usual 31 May."""
    set_end = conn.execute(select(School.year_ends).where(School.id == school_id)).scalar()
    return set_end if set_end is not None and starts <= set_end else school_year_end(starts)


def decision_due(conn: Connection, school_id: str, registered_on: date) -> date:
    """The last day the commission may decide an application registered on that day."""
    if 6 <= registered_on.month <= 8:
        return date(registered_on.year, 9, 7)
    holidays = set(conn.execute(select(Holiday.day).where(
        Holiday.school_id == school_id, Holiday.day > registered_on,
        Holiday.day <= registered_on + timedelta(days=120))).scalars())
    day, left = registered_on, DECISION_WORKING_DAYS
    while left:
        day += timedelta(days=1)
        if day.isoweekday() <= 5 and day not in holidays:
            left -= 1
    return day


def _policy(conn: Connection, school_id: str) -> Policy:
    text = conn.execute(select(School.policy_text).where(School.id == school_id)).scalar()
    if text is None:
        raise NotFound(f"школа {school_id} не найдена")
    return parse_policy(text, f"policy:{school_id}")


def school_policy(conn: Connection, school_id: str) -> Policy:
    """The school's policy: its categories, documents checklists and refusal reasons (for the office's forms)."""
    return _policy(conn, school_id)


def _positions(values: Iterable[Any], count: int) -> set[int]:
    result = set()
    for value in values:
        if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= count:
            raise OfficeError(f"номер документа: целое число от 1 до {count}, а не {value!r}")
        result.add(value)
    return result


def register(conn: Connection, actor: str, school_id: str, *, student_id: str, category: str, registered_on: date,
             applicant: str = "", received: Iterable[Any] = (), note: str = "") -> str:
    """Register an application; `received` are the numbers (from 1) of the checklist's documents handed in."""
    policy = _policy(conn, school_id)
    if category not in policy.categories:
        raise OfficeError(f"категории «{category}» нет в политике школы; есть: {', '.join(policy.categories)}")
    active = conn.execute(select(Student.active).where(Student.school_id == school_id,
                                                       Student.id == student_id)).scalar()
    if active is None:
        raise NotFound(f"ученика с кодом {student_id} нет в школе")
    if not active:
        raise OfficeError("ученик больше не обучается в школе")
    if registered_on > school_today(conn, school_id):
        raise OfficeError("дата регистрации заявления не может быть позже сегодняшней")
    if len(applicant) > 200 or len(note) > NOTE_MAX:
        raise OfficeError(f"заявитель — до 200 символов, примечание — до {NOTE_MAX}")
    documents = policy.documents(category)
    got = _positions(received, len(documents))
    app_id = uuid.uuid4().hex
    after = {"student_id": student_id, "category": category, "registered_on": registered_on,
             "applicant": applicant.strip(), "received": sorted(got)}
    change(conn, actor, school_id, "application", app_id, "register", None, after)
    conn.execute(insert(BenefitApplication).values(
        school_id=school_id, id=app_id, student_id=student_id, category=category, registered_on=registered_on,
        applicant=applicant.strip(), status=REGISTERED, note=note.strip(), created_by=actor[:64],
        created_at=utcnow()))
    if documents:
        conn.execute(insert(ApplicationDocument), [
            {"school_id": school_id, "application_id": app_id, "position": n, "title": title, "received": n in got}
            for n, title in enumerate(documents, 1)])
    return app_id


def _application(conn: Connection, school_id: str, app_id: str) -> Any:
    row = conn.execute(select(BenefitApplication).where(BenefitApplication.school_id == school_id,
                                                        BenefitApplication.id == app_id)).first()
    if row is None:
        raise NotFound(f"заявления {app_id} нет в школе")
    return row


def _documents(conn: Connection, school_id: str, app_id: str) -> list[Any]:
    return list(conn.execute(select(ApplicationDocument).where(
        ApplicationDocument.school_id == school_id, ApplicationDocument.application_id == app_id)
        .order_by(ApplicationDocument.position)).all())


def mark_documents(conn: Connection, actor: str, school_id: str, app_id: str, received: Iterable[Any]) -> None:
    """Which documents of the checklist are now handed in (the whole set), while the application waits."""
    app = _application(conn, school_id, app_id)
    if app.status != REGISTERED:
        raise OfficeError("по заявлению уже принято решение: документы не меняются")
    docs = _documents(conn, school_id, app_id)
    got = _positions(received, len(docs))
    before = sorted(d.position for d in docs if d.received)
    change(conn, actor, school_id, "application", app_id, "documents", {"received": before}, {"received": sorted(got)})
    for d in docs:
        conn.execute(update(ApplicationDocument).where(
            ApplicationDocument.school_id == school_id, ApplicationDocument.application_id == app_id,
            ApplicationDocument.position == d.position).values(received=d.position in got))


def decide(conn: Connection, actor: str, school_id: str, app_id: str, *, granted: bool, decided_on: date,
           protocol_no: str = "", reason: str = "", note: str = "") -> None:
    """The commission's decision: grant (only with every document handed in) or refuse with a policy reason."""
    app = _application(conn, school_id, app_id)
    if app.status != REGISTERED:
        raise OfficeError(f"по заявлению уже принято решение: {STATUS_RU[app.status]}")
    if decided_on < app.registered_on:
        raise OfficeError("решение не может быть раньше регистрации заявления")
    if len(protocol_no) > TEXT_MAX or len(note) > NOTE_MAX:
        raise OfficeError(f"номер протокола — до {TEXT_MAX} символов, примечание — до {NOTE_MAX}")
    policy = _policy(conn, school_id)
    if granted:
        missing = [d.title for d in _documents(conn, school_id, app_id) if not d.received]
        if missing:
            raise OfficeError("нельзя предоставить питание: не хватает документов — " + "; ".join(missing))
        reason = ""
    elif policy.refusal_reasons and reason not in policy.refusal_reasons:
        raise OfficeError("укажите причину отказа из политики: " + "; ".join(
            f"{code} — {text}" for code, text in policy.refusal_reasons.items()))
    elif not policy.refusal_reasons and not note.strip():
        raise OfficeError("укажите мотивированную причину отказа в примечании")
    status = GRANTED if granted else REFUSED
    after = {"status": status, "decided_on": decided_on, "protocol_no": protocol_no.strip(), "refusal_reason": reason}
    change(conn, actor, school_id, "application", app_id, "decide", {"status": app.status}, after)
    conn.execute(update(BenefitApplication).where(BenefitApplication.school_id == school_id,
                                                  BenefitApplication.id == app_id)
                 .values(note=note.strip() or app.note, **after))
    notices.application_decided(conn, school_id, app.student_id, granted=granted, decided_on=decided_on,
                                category=policy.categories.get(app.category, app.category),
                                reason=policy.refusal_reasons.get(reason, "") or note.strip())


def record_order(conn: Connection, actor: str, school_id: str, app_id: str, *, order_no: str, order_date: date,
                 ends: date | None = None) -> str | None:
    """The director's order on a decided application; for a granted one it creates the entitlement (with a
    rev, so terminals get it) from the next day to `ends` or the end of the school year. Returns its id."""
    app = _application(conn, school_id, app_id)
    order_no = order_no.strip()
    if app.status == REGISTERED:
        raise OfficeError("приказ издаётся после решения комиссии")
    if app.order_no:
        raise OfficeError(f"приказ по заявлению уже внесён: № {app.order_no}")
    if not order_no or len(order_no) > TEXT_MAX:
        raise OfficeError(f"номер приказа: от 1 до {TEXT_MAX} символов")
    if app.decided_on and order_date < app.decided_on:
        raise OfficeError("приказ не может быть раньше решения комиссии")
    entitlement_id = None
    values: dict[str, Any] = {"order_no": order_no, "order_date": order_date}
    if app.status == GRANTED:
        starts = order_date + timedelta(days=1)
        ends = ends or _year_end(conn, school_id, starts)
        if ends < starts:
            raise OfficeError(f"окончание {ends:%d.%m.%Y} раньше начала {starts:%d.%m.%Y}")
        entitlement_id = f"{app.student_id}:{app.category}:{order_no}"[:64]  # the import's key of the same order
        if conn.execute(select(Entitlement.id).where(Entitlement.school_id == school_id,
                                                     Entitlement.id == entitlement_id)).scalar() is not None:
            raise OfficeError(f"льгота по приказу № {order_no} у ученика уже есть")
        values |= {"entitlement_id": entitlement_id, "starts": starts, "ends": ends}
    before = {"order_no": app.order_no, "order_date": app.order_date}
    rev = change(conn, actor, school_id, "application", app_id, "order", before, values)
    if entitlement_id is not None:
        conn.execute(insert(Entitlement).values(
            school_id=school_id, id=entitlement_id, student_id=app.student_id, category=app.category,
            starts=values["starts"], ends=values["ends"], order_no=order_no, order_date=order_date,
            reason=f"заявление от {app.registered_on:%d.%m.%Y}"
                   + (f", протокол № {app.protocol_no}" if app.protocol_no else ""), rev=rev))
    conn.execute(update(BenefitApplication).where(BenefitApplication.school_id == school_id,
                                                  BenefitApplication.id == app_id)
                 .values(order_no=order_no, order_date=order_date, entitlement_id=entitlement_id))
    return entitlement_id


def applications(conn: Connection, school_id: str, *, status: str | None = None, today: date | None = None,
                 app_id: str | None = None) -> list[dict[str, Any]]:
    """Applications with their checklists, due dates and whether the decision is overdue, oldest first."""
    today = today or school_today(conn, school_id)
    policy = _policy(conn, school_id)
    query = (select(*BenefitApplication.__table__.c, Student.full_name, Student.class_id)
             .join(Student, (Student.school_id == BenefitApplication.school_id)
                   & (Student.id == BenefitApplication.student_id))
             .where(BenefitApplication.school_id == school_id))
    if status is not None:
        query = query.where(BenefitApplication.status == status)
    if app_id is not None:
        query = query.where(BenefitApplication.id == app_id)
    rows = conn.execute(query.order_by(BenefitApplication.registered_on, BenefitApplication.created_at)).all()
    docs: dict[str, list[dict[str, Any]]] = {}
    docs_query = select(ApplicationDocument).where(ApplicationDocument.school_id == school_id)
    if app_id is not None:
        docs_query = docs_query.where(ApplicationDocument.application_id == app_id)
    for d in conn.execute(docs_query.order_by(ApplicationDocument.position)):
        docs.setdefault(d.application_id, []).append({"n": d.position, "title": d.title, "received": d.received})
    result = []
    for r in rows:
        a = r
        due = decision_due(conn, school_id, a.registered_on)
        result.append({
            "id": a.id, "student_id": a.student_id, "full_name": r.full_name, "class_id": r.class_id,
            "category": a.category, "category_title": policy.categories.get(a.category, a.category),
            "registered_on": a.registered_on, "applicant": a.applicant, "status": a.status,
            "status_ru": STATUS_RU.get(a.status, a.status), "decided_on": a.decided_on, "protocol_no": a.protocol_no,
            "refusal_reason": a.refusal_reason, "refusal_text": policy.refusal_reasons.get(a.refusal_reason, ""),
            "note": a.note, "order_no": a.order_no, "order_date": a.order_date, "entitlement_id": a.entitlement_id,
            "documents": docs.get(a.id, []), "decision_due": due,
            "overdue": a.status == REGISTERED and today > due})
    return result


def application(conn: Connection, school_id: str, app_id: str, *, today: date | None = None) -> dict[str, Any]:
    found = applications(conn, school_id, app_id=app_id, today=today)
    if not found:
        raise NotFound(f"заявления {app_id} нет в школе")
    return found[0]


def overdue(conn: Connection, school_id: str, today: date | None = None) -> list[dict[str, Any]]:
    """Applications still waiting for the commission past their due date."""
    return [a for a in applications(conn, school_id, status=REGISTERED, today=today) if a["overdue"]]


def in_force_on(conn: Connection, school_id: str, day: date) -> list[Any]:
    """The entitlements in force on `day` of the school's active students, with the student's name, birth date
    and current class: what the lists per category are made of (`category_lists`, `server.reports.lists`)."""
    return list(conn.execute(
        select(*Entitlement.__table__.c, Student.full_name, Student.birth_date, Student.class_id)
        .join(Student, (Student.school_id == Entitlement.school_id) & (Student.id == Entitlement.student_id))
        .where(Entitlement.school_id == school_id, Student.active.is_(True), Entitlement.starts <= day,
               (Entitlement.ends.is_(None)) | (Entitlement.ends >= day))).all())


def order_text(order_no: str, order_date: date | None) -> str:
    """«приказ № 01-04-9 от 01.10.2026» ("" without a number)."""
    return (f"приказ № {order_no}" + (f" от {order_date:%d.%m.%Y}" if order_date else "")) if order_no else ""


def basis_of(e: Any, policy: Policy) -> str:
    """The basis of an entitlement row in a list: its reason and приказ, else the category's documents."""
    return ("; ".join(p for p in (e.reason, order_text(e.order_no, e.order_date)) if p)
            or "; ".join(policy.category_documents.get(e.category, ())))


def application_bases(conn: Connection, school_id: str) -> dict[str, dict[str, Any]]:
    """Per entitlement made by an application: the commission's protocol (number, date) and the documents
    handed in that prove the category (the checklist's received titles, the common ones of every
    application left out when the category has its own)."""
    apps = conn.execute(select(BenefitApplication.id, BenefitApplication.entitlement_id,
                               BenefitApplication.protocol_no, BenefitApplication.decided_on,
                               BenefitApplication.category, BenefitApplication.registered_on)
                        .where(BenefitApplication.school_id == school_id,
                               BenefitApplication.entitlement_id.is_not(None))).all()
    if not apps:
        return {}
    policy = _policy(conn, school_id)
    docs: dict[str, list[str]] = {}
    for d in conn.execute(select(ApplicationDocument.application_id, ApplicationDocument.title).where(
            ApplicationDocument.school_id == school_id, ApplicationDocument.received.is_(True))
            .order_by(ApplicationDocument.application_id, ApplicationDocument.position)):
        docs.setdefault(d.application_id, []).append(d.title)
    result = {}
    for a in apps:
        got = docs.get(a.id, [])
        own = [t for t in got if t not in policy.common_documents]
        result[a.entitlement_id] = {"protocol_no": a.protocol_no, "decided_on": a.decided_on,
                                    "registered_on": a.registered_on, "documents": tuple(own or got)}
    return result


def category_lists(conn: Connection, school_id: str, day: date | None = None) -> dict[str, list[dict[str, Any]]]:
    """Per category, the students whose benefit is in force on `day` (seed 004 приложение 5): student,
    class, birth date, category, the basis document and the period; by class and name."""
    day = day or school_today(conn, school_id)
    policy = _policy(conn, school_id)
    rows = in_force_on(conn, school_id, day)
    classes = {c.id: c for c in conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.grade)
                                             .where(SchoolClass.school_id == school_id))}
    lists: dict[str, list[dict[str, Any]]] = {c: [] for c in policy.categories}
    for r in sorted(rows, key=lambda r: (classes[r.class_id].grade if r.class_id in classes else 99, r.class_id,
                                         r.full_name)):
        e = r
        lists.setdefault(e.category, []).append({
            "student_id": e.student_id, "full_name": r.full_name, "birth_date": r.birth_date,
            "class_name": classes[r.class_id].name if r.class_id in classes else r.class_id,
            "category": e.category, "basis": basis_of(e, policy), "starts": e.starts, "ends": e.ends})
    return lists
