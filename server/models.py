"""The server's database: SQLAlchemy 2.0 typed models (SQLite embedded, PostgreSQL in production).

Every row of a school's reference data carries `rev`, taken from the school's own counter
(`School.rev`) in the transaction that wrote it; a terminal's cursor is the last rev it applied,
so a delta is "rows of my school with rev > cursor" — an index range scan whose cost does not
grow with the server. Deleted rows leave a `Tombstone` with a rev. Taking a rev locks the school's
row until COMMIT, so revs of one school become visible in order and no change slips behind a cursor.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import BigInteger, Boolean, Date, DateTime, Float, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from pos.ledger import EventKind
from pos.models import (
    BreakColumns,
    CardColumns,
    ClassColumns,
    ClassDayOffColumns,
    EntitlementColumns,
    EventFields,
    HolidayColumns,
    Kopecks,
    MatchKey32,
    MealSlotColumns,
    MenuPriceColumns,
    OrderColumns,
    StaffColumns,
    StudentColumns,
    reference_models,
)

# SQLite only autoincrements an INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT identity.
BigId = BigInteger().with_variant(Integer, "sqlite")
HISTORY_START = date(2000, 1, 1)  # a history row that holds "since the beginning" (`StudentClassSpan`)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {Kopecks: BigInteger, MatchKey32: BigInteger}


class School(Base):
    __tablename__ = "schools"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))
    timezone: Mapped[str] = mapped_column(String(64))
    week_days: Mapped[str] = mapped_column(String(20), default="1,2,3,4,5")
    window_early_min: Mapped[int] = mapped_column(Integer, default=10)
    window_late_min: Mapped[int] = mapped_column(Integer, default=10)
    refuse_outside_window: Mapped[bool] = mapped_column(Boolean, default=False)
    year_starts: Mapped[date | None] = mapped_column(Date)  # the school year (None: not set yet)
    year_ends: Mapped[date | None] = mapped_column(Date)
    # school time, on the school day before the ordered day (the server default fills existing schools)
    order_deadline: Mapped[str] = mapped_column(String(5), default="10:00", server_default=text("'10:00'"))
    policy_text: Mapped[str] = mapped_column(Text)
    rev: Mapped[int] = mapped_column(BigInteger, default=0)  # the school's change counter
    settings_rev: Mapped[int] = mapped_column(BigInteger, default=0)  # rev of the last change of the above
    district_id: Mapped[str | None] = mapped_column(String(64))  # its district (`District`), None: none yet


class SchoolRows:
    """What every reference row of the server has besides its shared columns: its school and its rev."""

    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), primary_key=True, sort_order=-1)
    rev: Mapped[int] = mapped_column(BigInteger, sort_order=1)


class SchoolClass(SchoolRows, ClassColumns, Base):
    __tablename__ = "classes"


class Break(SchoolRows, BreakColumns, Base):
    __tablename__ = "breaks"


class MealSlot(SchoolRows, MealSlotColumns, Base):
    __tablename__ = "meal_slots"


class Student(SchoolRows, StudentColumns, Base):
    """A student and the personal account (лицевой счёт): the server is the book of record."""

    __tablename__ = "students"


class Card(SchoolRows, CardColumns, Base):
    __tablename__ = "cards"


class Entitlement(SchoolRows, EntitlementColumns, Base):
    """A benefit granted by the director's order (приказ) for a period; the order stays on the server."""

    __tablename__ = "entitlements"
    order_no: Mapped[str] = mapped_column(String(64), default="", sort_order=1)
    order_date: Mapped[date | None] = mapped_column(Date, sort_order=1)
    reason: Mapped[str] = mapped_column(Text, default="", sort_order=1)


class Order(SchoolRows, OrderColumns, Base):
    __tablename__ = "orders"


class MenuPrice(SchoolRows, MenuPriceColumns, Base):
    __tablename__ = "menu_prices"


class Holiday(SchoolRows, HolidayColumns, Base):
    __tablename__ = "holidays"


class StaffMember(SchoolRows, StaffColumns, Base):
    """Who serves at a school's windows; managed by `server.office.staff`, pulled by its terminals."""

    __tablename__ = "staff"


class ClassDayOff(SchoolRows, ClassDayOffColumns, Base):
    """A class's day without lessons (`pos.calendar`), pulled by the school's terminals."""

    __tablename__ = "class_days_off"


class TopUp(Base):
    """A payment into a personal account; `reference` (the payment document) makes re-import harmless."""

    __tablename__ = "topups"
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    reference: Mapped[str] = mapped_column(String(100), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64))
    amount_kopecks: Mapped[int] = mapped_column(BigInteger)
    paid_at: Mapped[datetime] = mapped_column(DateTime)
    imported_at: Mapped[datetime] = mapped_column(DateTime)


class Tombstone(Base):
    """A deleted reference row, so deltas can tell terminals to delete it too."""

    __tablename__ = "tombstones"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    rev: Mapped[int] = mapped_column(BigInteger)
    table: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(Text)  # JSON list of the primary-key values after school_id


class Terminal(Base):
    """A serving window's terminal; its bearer token is stored only as a SHA-256 hash."""

    __tablename__ = "terminals"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), index=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    token_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(DateTime)
    last_pull_at: Mapped[datetime | None] = mapped_column(DateTime)
    clock_drift_s: Mapped[float | None] = mapped_column(Float)
    # What the server found about the terminal itself (`pos.ledger.Flag.CLONE`: its token is on two
    # devices); comma-joined, kept until the token is revoked, sent back in every push and pull answer.
    flags: Mapped[str] = mapped_column(String(200), default="")
    # What the terminal reports of itself on each sync (None until a terminal that reports them syncs).
    outbox_size: Mapped[int | None] = mapped_column(Integer)  # its events not yet on the server
    version: Mapped[str | None] = mapped_column(String(64))  # the canteen package's version


class SyncLog(Base):
    """One push or pull of a terminal, with the clock drift measured then."""

    __tablename__ = "sync_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    terminal_id: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(8))  # push | pull
    drift_s: Mapped[float | None] = mapped_column(Float)
    events: Mapped[int] = mapped_column(Integer, default=0)  # received (push) or rows sent (pull)
    stored: Mapped[int] = mapped_column(Integer, default=0)


class Event(EventFields, Base):
    """A terminal's journal event as received: stored once per school by its terminal-made id, never
    edited (but for `server_flags`, which a later clone of it may mark).

    `server_flags` says what the server found on arrival (unknown student or card, data the
    terminal had was stale, a reversal from another window, a cloned terminal); such events are
    stored and flagged, never dropped. The key is (school, id): one school's ids never shadow another's.
    """

    __tablename__ = "events"
    school_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    seq: Mapped[int] = mapped_column(BigInteger)
    server_flags: Mapped[str] = mapped_column(String(200), default="")
    received_at: Mapped[datetime] = mapped_column(DateTime)
    rev: Mapped[int] = mapped_column(BigInteger)


class RejectedEvent(Base):
    """An event the server refused (invalid, forged money, a reversal it cannot apply, an id reused
    with other content), with the reason, so the office can see what a terminal tried to send."""

    __tablename__ = "rejected_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(String(64))
    terminal_id: Mapped[str] = mapped_column(String(64))
    event_id: Mapped[str | None] = mapped_column(String(64))  # None when the event had no usable id
    reason: Mapped[str] = mapped_column(String(32))
    message: Mapped[str] = mapped_column(Text)
    raw: Mapped[str] = mapped_column(Text)  # the event's JSON, cut to RAW_MAX characters
    received_at: Mapped[datetime] = mapped_column(DateTime)


class Admin(Base):
    """An administrator; `school_id` None means every school on this server (the district)."""

    __tablename__ = "admins"
    login: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(300))
    school_id: Mapped[str | None] = mapped_column(ForeignKey("schools.id"))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class AdminSession(Base):
    __tablename__ = "admin_sessions"
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    login: Mapped[str] = mapped_column(ForeignKey("admins.login", ondelete="CASCADE"))
    token_hash: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(DateTime)


class LoginFailure(Base):
    """A failed administrator login, counted for the rate limit of `/api/auth/login`.

    Kept in the database, not in a worker's memory, so the limit holds across gunicorn workers;
    rows older than the window are deleted as new failures come.
    """

    __tablename__ = "login_failures"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(64))
    ip: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)


for _table in (SchoolClass, Break, MealSlot, Student, Card, Entitlement, Order, MenuPrice, Holiday, StaffMember,
               ClassDayOff, Tombstone):
    Index(f"ix_{_table.__tablename__}_school_rev", _table.school_id, _table.rev)
Index("ix_orders_school_day", Order.school_id, Order.day)
Index("ix_cards_school_key32", Card.school_id, Card.key32)
Index("ix_cards_school_key24", Card.school_id, Card.key24)
Index("ix_cards_school_student", Card.school_id, Card.student_id)
Index("ix_entitlements_school_student", Entitlement.school_id, Entitlement.student_id)
Index("ix_events_school_rev", Event.school_id, Event.rev)
Index("ix_events_school_day", Event.school_id, Event.local_date)
Index("ix_events_terminal_seq", Event.terminal_id, Event.seq)
Index("ix_events_ref", Event.ref_event_id)
# A serve is reversed at most once, even by two pushes at the same moment.
Index("ux_events_reversal_ref", Event.school_id, Event.ref_event_id, unique=True,
      sqlite_where=Event.kind == EventKind.REVERSAL.value,
      postgresql_where=Event.kind == EventKind.REVERSAL.value)
Index("ix_rejected_events_school_id", RejectedEvent.school_id, RejectedEvent.id)
Index("ix_sync_log_terminal_at", SyncLog.terminal_id, SyncLog.at)
Index("ix_login_failures_login_at", LoginFailure.login, LoginFailure.at)
Index("ix_login_failures_ip_at", LoginFailure.ip, LoginFailure.at)
Index("ix_login_failures_at", LoginFailure.at)

REFERENCE_MODELS = reference_models(Base)  # wire name -> model, as the terminal's

class User(Base):
    """A person of the office (signs in on the web pages); what they may do is in their `RoleGrant`s.

    `password_hash` is None until the invited person sets a password (or after a reset);
    `session_key` is what the sign-in cookie names, so changing it (password set, reset, access
    removed) ends every session of the user at once.
    """

    __tablename__ = "users"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    login: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str | None] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    session_key: Mapped[str] = mapped_column(String(32), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class RoleGrant(Base):
    """One role of a user over one scope: a school, a class of a school, a student, or a district.

    `school_id` names the school for school, class and student scopes (None for a district);
    `scope_id` is the class id, the student id or the district's name (empty for a school).
    """

    __tablename__ = "role_grants"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(16))
    scope_kind: Mapped[str] = mapped_column(String(16))
    school_id: Mapped[str | None] = mapped_column(String(64))
    scope_id: Mapped[str] = mapped_column(String(64), default="")


class UserLink(Base):
    """A one-time link (invitation or password reset); only the SHA-256 of its token is kept."""

    __tablename__ = "user_links"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    purpose: Mapped[str] = mapped_column(String(16))  # invite | reset
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)


class AuditEntry(Base):
    """One change made in the office: who, when, what, and the values before and after (JSON)."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(64))
    school_id: Mapped[str | None] = mapped_column(String(64))
    entity: Mapped[str] = mapped_column(String(32))
    entity_id: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[str | None] = mapped_column(Text)
    after: Mapped[str | None] = mapped_column(Text)


Index("ix_role_grants_school", RoleGrant.school_id, RoleGrant.role)
Index("ix_audit_log_school_at", AuditEntry.school_id, AuditEntry.at)


class BenefitApplication(Base):
    """A parent's application (заявление) for a benefit: registered, decided by the commission
    (granted or refused with a reason of the policy), formalised by the director's order (приказ)."""

    __tablename__ = "applications"
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    registered_on: Mapped[date] = mapped_column(Date)
    applicant: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[str] = mapped_column(String(16))  # registered | granted | refused
    decided_on: Mapped[date | None] = mapped_column(Date)
    protocol_no: Mapped[str] = mapped_column(String(64), default="")
    refusal_reason: Mapped[str] = mapped_column(String(64), default="")  # a code of the policy's refusal_reasons
    note: Mapped[str] = mapped_column(Text, default="")
    order_no: Mapped[str] = mapped_column(String(64), default="")
    order_date: Mapped[date | None] = mapped_column(Date)
    entitlement_id: Mapped[str | None] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)


class ApplicationDocument(Base):
    """One line of an application's documents checklist (from the policy's list for its category)."""

    __tablename__ = "application_documents"
    school_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    application_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    title: Mapped[str] = mapped_column(Text)
    received: Mapped[bool] = mapped_column(Boolean, default=False)


Index("ix_audit_log_school_entity", AuditEntry.school_id, AuditEntry.entity, AuditEntry.entity_id)
Index("ix_applications_school_status", BenefitApplication.school_id, BenefitApplication.status)
Index("ix_applications_school_student", BenefitApplication.school_id, BenefitApplication.student_id)

class ReviewResolution(Base):
    """How the office resolved an item of the review queue (`server.office.reviews`): append-only.

    An item is keyed by (school, day, subject, meal, kind), the subject being a student or a
    terminal; the latest row of a key is in force while its `fingerprint` (of the events and money
    that made the item) is the item's current one. Rows are never edited or deleted.
    """

    __tablename__ = "review_resolutions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    day: Mapped[date] = mapped_column(Date)
    subject: Mapped[str] = mapped_column(String(64))
    meal: Mapped[str] = mapped_column(String(16))
    kind: Mapped[str] = mapped_column(String(32))
    fingerprint: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(String(32))
    comment: Mapped[str] = mapped_column(Text)
    resolved_by: Mapped[str] = mapped_column(String(64))
    resolved_at: Mapped[datetime] = mapped_column(DateTime)


Index("ix_review_resolutions_school_day", ReviewResolution.school_id, ReviewResolution.day)


class ClassOrder(Base):
    """A class's order (заявка) for a school day as a whole: who submitted it and when.

    The meals themselves are `Order` rows (pulled by terminals); this row says the class teacher
    answered for the day, so the coordinator sees which classes have not.
    """

    __tablename__ = "class_orders"
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    class_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    submitted_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive


class Absence(Base):
    """A student marked «не придёт» on a school day by the class teacher (orders serve as attendance)."""

    __tablename__ = "absences"
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")


class StandingOrder(Base):
    """A paid meal a student takes every week on a week day (the parents' standing choice)."""

    __tablename__ = "standing_orders"
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    weekday: Mapped[int] = mapped_column(Integer, primary_key=True)  # ISO: 1 = Monday
    meal: Mapped[str] = mapped_column(String(16), primary_key=True)


class OrderChange(Base):
    """One change of a class's order for a day: who, when, what, why. Append-only.

    `action` is add / remove (a meal of a student) or absent / present (the «не придёт» mark);
    `late` is set when the change came after the day's deadline (only the coordinator may, with a
    reason), `after_sent` when the kitchen's order had already gone.
    """

    __tablename__ = "order_changes"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    day: Mapped[date] = mapped_column(Date)
    class_id: Mapped[str] = mapped_column(String(64))
    student_id: Mapped[str] = mapped_column(String(64))
    meal: Mapped[str] = mapped_column(String(16), default="")
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive
    reason: Mapped[str] = mapped_column(Text, default="")
    late: Mapped[bool] = mapped_column(Boolean, default=False)
    after_sent: Mapped[bool] = mapped_column(Boolean, default=False)


class KitchenSending(Base):
    """The coordinator sent the day's order to the kitchen (КШП): when and who."""

    __tablename__ = "kitchen_sendings"
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    sent_by: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive


Index("ix_order_changes_school_day", OrderChange.school_id, OrderChange.day)


class Dish(Base):
    """A dish of a day's menu (`server.office.menu`): per meal and age group of СанПиН 2.3/2.4.3590-20
    ("7-11", "12+"), in the order of `position`. Server-only: terminals get the sums as `MenuPrice`.

    Yield, energy and nutrients are exact hundredths (integers): 4,71 г is 471, 228,5 ккал is 22850.
    """

    __tablename__ = "dishes"
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    meal: Mapped[str] = mapped_column(String(16), primary_key=True)
    age_group: Mapped[str] = mapped_column(String(8), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, primary_key=True)
    section: Mapped[str] = mapped_column(String(64), default="")
    recipe: Mapped[str] = mapped_column(String(32), default="")
    name: Mapped[str] = mapped_column(String(300))
    yield_c: Mapped[int] = mapped_column(Integer)  # grams × 100
    price_kopecks: Mapped[int] = mapped_column(Integer)
    energy_c: Mapped[int] = mapped_column(Integer)  # kcal × 100
    proteins_c: Mapped[int] = mapped_column(Integer)  # grams × 100
    fats_c: Mapped[int] = mapped_column(Integer)
    carbs_c: Mapped[int] = mapped_column(Integer)
    allergens: Mapped[str] = mapped_column(String(300), default="")


# --- history: what was true on each day (issue 12's registers are computed from it) ----------------------

class StudentClassSpan(Base):
    """A student's class from `starts` on (until the next span of the student): the class on a past day is
    the span with the latest `starts` not after it. `starts` = `HISTORY_START` for "since the beginning"."""

    __tablename__ = "student_classes"
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    starts: Mapped[date] = mapped_column(Date, primary_key=True)
    class_id: Mapped[str] = mapped_column(String(64))


class SchoolPolicy(Base):
    """The school's meals policy for one school year ("2026-2027"): a day is judged by its year's policy and
    a day of a year without one is not judged at all."""

    __tablename__ = "school_policies"
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"), primary_key=True)
    school_year: Mapped[str] = mapped_column(String(9), primary_key=True)
    policy_text: Mapped[str] = mapped_column(Text)
    set_by: Mapped[str] = mapped_column(String(64))
    set_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive


class FoodParcel(Base):
    """A food parcel (сухой паёк) or a money compensation given to a student for a school day instead of a
    meal at the window (home-schooled ОВЗ students, seed 004 §1.7; Ryazan's compensation, seed 003 §2)."""

    __tablename__ = "food_parcels"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    student_id: Mapped[str] = mapped_column(String(64))
    day: Mapped[date] = mapped_column(Date)
    kind: Mapped[str] = mapped_column(String(16))  # parcel | compensation
    category: Mapped[str] = mapped_column(String(64), default="")
    budget_line: Mapped[str] = mapped_column(String(64), default="")
    amount_kopecks: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(Text, default="")
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive


class ReportExport(Base):
    """A register as the school exported or submitted it, with its figures (JSON), so a backdated change
    shows the difference against what went out."""

    __tablename__ = "report_exports"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    kind: Mapped[str] = mapped_column(String(16))  # tabel | milk | monthly | request | lists | schedule
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM
    class_id: Mapped[str] = mapped_column(String(64), default="")
    format: Mapped[str] = mapped_column(String(8))
    submitted: Mapped[bool] = mapped_column(Boolean, default=False)
    figures: Mapped[str] = mapped_column(Text)
    made_by: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive


Index("ux_food_parcels_student_day_kind", FoodParcel.school_id, FoodParcel.student_id, FoodParcel.day,
      FoodParcel.kind, unique=True)
Index("ix_food_parcels_school_day", FoodParcel.school_id, FoodParcel.day)
Index("ix_report_exports_school_kind_month", ReportExport.school_id, ReportExport.kind, ReportExport.month)
Index("ix_events_school_student", Event.school_id, Event.student_id)


# --- issue 13: notices ---

class Notice(Base):
    """An e-mail to a parent waiting to be sent (or sent): written in the transaction of the change that causes
    it, sent by `canteen server notices send` (`server.notice_sender`) with retries; never deleted here.

    `next_try_at` is when a worker may take it next: a worker that takes it moves it ahead by a lease, so
    two workers never send it together; None once it is sent or given up."""

    __tablename__ = "notices"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    recipient: Mapped[str] = mapped_column(String(320))  # the parent's e-mail (their login)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    school_id: Mapped[str | None] = mapped_column(String(64))
    student_id: Mapped[str | None] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(16))  # balance_low | card_blocked | application
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    created: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_try_at: Mapped[datetime | None] = mapped_column(DateTime)  # UTC, naive
    sent_at: Mapped[datetime | None] = mapped_column(DateTime)  # UTC, naive
    last_error: Mapped[str | None] = mapped_column(Text)


class NoticePreference(Base):
    """Which notices a parent gets and below which balance (no row: every notice, the default threshold)."""

    __tablename__ = "notice_preferences"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    balance_low: Mapped[bool] = mapped_column(Boolean, default=True)
    card_blocked: Mapped[bool] = mapped_column(Boolean, default=True)
    application: Mapped[bool] = mapped_column(Boolean, default=True)
    threshold_kopecks: Mapped[int] = mapped_column(BigInteger)


class LowBalanceAlert(Base):
    """A parent was told a child's balance fell below their threshold: no second notice until the balance
    is back at or above it (then the row goes, and the next fall is told again)."""

    __tablename__ = "low_balance_alerts"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    school_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive


Index("ix_notices_due", Notice.next_try_at, sqlite_where=Notice.sent_at.is_(None),
      postgresql_where=Notice.sent_at.is_(None))
Index("ix_notices_recipient", Notice.recipient, Notice.created)
Index("ix_role_grants_parent_scope", RoleGrant.school_id, RoleGrant.scope_id, RoleGrant.role)
# --- issue 13: bank payment registers ---

class PaymentImport(Base):
    """A bank's payment register (реестр платежей) as imported: what it held and what became of it
    (`server.office.payments`)."""

    __tablename__ = "payment_imports"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    filename: Mapped[str] = mapped_column(String(200))
    format: Mapped[str] = mapped_column(String(16))  # sber | csv
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 of the file
    rows: Mapped[int] = mapped_column(Integer)
    total_kopecks: Mapped[int] = mapped_column(BigInteger)  # the payments the file holds (parsed amounts)
    applied: Mapped[int] = mapped_column(Integer)
    applied_kopecks: Mapped[int] = mapped_column(BigInteger)
    already: Mapped[int] = mapped_column(Integer)  # imported before: nothing done
    conflicts: Mapped[int] = mapped_column(Integer)  # new conflicts kept in payment_conflicts
    commission_kopecks: Mapped[int] = mapped_column(BigInteger, default=0)
    made_by: Mapped[str] = mapped_column(String(64))
    made_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive


class PaymentConflict(Base):
    """A register's row that was not applied (unknown account, a reused operation number, a bad amount
    or date, a repeat in the file), kept until the coordinator assigns it to a student or dismisses it.
    `fingerprint` is the row's data: the same row in a later register is recognised, not kept twice."""

    __tablename__ = "payment_conflicts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    import_id: Mapped[int] = mapped_column(BigInteger)
    line: Mapped[int] = mapped_column(Integer)
    fingerprint: Mapped[str] = mapped_column(String(64))
    kind: Mapped[str] = mapped_column(String(32))  # unknown_account | reference_differs | duplicate | amount | date
    message: Mapped[str] = mapped_column(Text)
    reference: Mapped[str] = mapped_column(String(100), default="")
    account: Mapped[str] = mapped_column(String(100), default="")
    payer: Mapped[str] = mapped_column(String(200), default="")
    amount_kopecks: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="open")  # open | assigned | dismissed | applied
    resolution: Mapped[str] = mapped_column(Text, default="")
    resolved_by: Mapped[str] = mapped_column(String(64), default="")
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


Index("ix_payment_imports_school", PaymentImport.school_id, PaymentImport.made_at)
Index("ux_payment_conflicts_fingerprint", PaymentConflict.school_id, PaymentConflict.fingerprint, unique=True)
Index("ix_payment_conflicts_school_status", PaymentConflict.school_id, PaymentConflict.status)
# --- issue 13: parents ---

class ParentCode(Base):
    """A one-time code of a parents' letter (`server.parents`): links a parent to a student.

    Only the SHA-256 of the code is kept; a code is used once (`used_at`, `used_by`), expires, and a
    new letter for the student deletes the student's unused codes.
    """

    __tablename__ = "parent_codes"
    code_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    student_id: Mapped[str] = mapped_column(String(64))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime)
    used_by: Mapped[int | None] = mapped_column(BigInteger)  # the user who linked with it


Index("ix_parent_codes_school_student", ParentCode.school_id, ParentCode.student_id)
# --- issue 13: district ---

class District(Base):
    """A district (управление образования) and its schools (`School.district_id`); its users hold a
    `RoleGrant` of role "district" with scope_id = the district's id."""

    __tablename__ = "districts"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(300))


class ReportSubmission(Base):
    """A school's register of a month (the monthly report, the funding request) sent to its district:
    its state now (submitted | accepted | returned); every step is a `SubmissionStep`."""

    __tablename__ = "report_submissions"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    school_id: Mapped[str] = mapped_column(ForeignKey("schools.id"))
    kind: Mapped[str] = mapped_column(String(16))  # monthly | request
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM: the month reported (the request: asked for)
    state: Mapped[str] = mapped_column(String(16))
    first_submitted_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive: judged against the deadline
    updated_at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive


class SubmissionStep(Base):
    """One step of a submission: who, when, what (submitted | accepted | returned), the comment, and on a
    submission the export (`ReportExport`, with the figures) that went out. Append-only."""

    __tablename__ = "submission_steps"
    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("report_submissions.id"))
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(DateTime)  # UTC, naive
    comment: Mapped[str] = mapped_column(Text, default="")
    export_id: Mapped[int | None] = mapped_column(BigInteger)


Index("ix_schools_district", School.district_id)
Index("ux_report_submissions_school_kind_month", ReportSubmission.school_id, ReportSubmission.kind,
      ReportSubmission.month, unique=True)
Index("ix_submission_steps_submission", SubmissionStep.submission_id)
