"""The terminal's local store: SQLAlchemy 2.0 typed models (SQLite).

Reference data (classes, students, cards, entitlements, orders, prices, staff) is what sync pulls from the
server. The journal (`Event`) is append-only: corrections are new events. `Outbox` holds the events
not yet acknowledged by the server; `Served` is derived state kept in the same transaction as the
journal so "already served today?" is one indexed lookup.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Any, ClassVar

from sqlalchemy import BigInteger, Boolean, Date, DateTime, ForeignKeyConstraint, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, MappedColumn, mapped_column

from pos.decide import Outcome
from pos.domain import Meal
from pos.ledger import FLAGS_MAX, EventKind
from pos.pins import PIN_HASH_MAX

STAFF_MAX = 100  # characters of a staff name on an event
NOTE_MAX = 2000  # characters of an event's message or note

# -- reference data: each table's columns are defined once, here, for the terminal and the server ----------
#
# `XColumns` holds the columns a table has on both sides, which are exactly what a pull sends, in that
# order; `pos.models.X(XColumns, Base)` is the terminal's table and `server.models.X(XColumns, Base)` the
# server's, which adds `school_id` (first in the primary key), `rev` and what only the server keeps.
# Where the two stores differ in a column's SQL type, the column is annotated with a name below and each
# side's `Base.type_annotation_map` picks the type; foreign keys and indexes of one side go in its model.

Kopecks = Annotated[int, "a balance: 64-bit on the server"]
MatchKey32 = Annotated[int, "a card's 32-bit match key: 64-bit on the server, unsigned"]
DERIVED = "derived"  # `Column.info` key of a column the terminal computes itself: never sent


class ClassColumns:
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    grade: Mapped[int] = mapped_column(Integer)
    shift: Mapped[int] = mapped_column(Integer)


class BreakColumns:
    """A break (перемена) of a shift, in the school's local time ("08:40")."""

    shift: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    starts: Mapped[str] = mapped_column(String(5))
    ends: Mapped[str] = mapped_column(String(5))


class MealSlotColumns:
    """At which break of which shift a class eats a meal (seed 002's canteen schedule)."""

    class_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    meal: Mapped[str] = mapped_column(String(16), primary_key=True)
    shift: Mapped[int] = mapped_column(Integer)
    break_no: Mapped[int] = mapped_column(Integer)


class StudentColumns:
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    full_name: Mapped[str] = mapped_column(String(200))
    class_id: Mapped[str] = mapped_column(String(64))
    birth_date: Mapped[date | None] = mapped_column(Date)
    diet_note: Mapped[str] = mapped_column(Text, default="")
    daily_limit_kopecks: Mapped[int | None] = mapped_column(Integer)
    balance_kopecks: Mapped[Kopecks] = mapped_column(default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CardColumns:
    uid: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64))
    key32: Mapped[MatchKey32 | None] = mapped_column(info={DERIVED: True})  # drivers.card.match_keys(uid)
    key24: Mapped[int | None] = mapped_column(Integer, info={DERIVED: True})
    blocked: Mapped[bool] = mapped_column(Boolean, default=False)
    blocked_reason: Mapped[str] = mapped_column(String(200), default="")


class EntitlementColumns:
    """A benefit category granted to a student for a period (starts the day after the director's order)."""

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    student_id: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    starts: Mapped[date] = mapped_column(Date)
    ends: Mapped[date | None] = mapped_column(Date)


class OrderColumns:
    """A meal ordered (заявка) for a student on a school day."""

    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    meal: Mapped[str] = mapped_column(String(16), primary_key=True)


class MenuPriceColumns:
    """The day's price of a meal for students who pay from their account, per age group of the menu
    (`pos.domain.age_group`; "" is every age: rows of price files and of stores before age groups)."""

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    meal: Mapped[str] = mapped_column(String(16), primary_key=True)
    age_group: Mapped[str] = mapped_column(String(8), primary_key=True, default="")
    price_kopecks: Mapped[int] = mapped_column(Integer)


class HolidayColumns:
    """A day the school does not serve (holiday, quarantine) although the week says it would."""

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")


class ClassDayOffColumns:
    """A school day on which one class has no lessons (an excursion, a trip): no orders, no serving."""

    class_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    reason: Mapped[str] = mapped_column(String(200), default="")


class StaffColumns:
    """A person who serves at the window, set in the office; the PIN is kept only as `pos.pins` hash."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(STAFF_MAX))
    pin_hash: Mapped[str] = mapped_column(String(PIN_HASH_MAX))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Base(DeclarativeBase):
    # SQLite's INTEGER is 64-bit whatever the declared type, so the terminal keeps plain INTEGER.
    type_annotation_map: ClassVar[dict[Any, Any]] = {Kopecks: Integer, MatchKey32: Integer}


class Meta(Base):
    """Key/value settings of this terminal: identity, school, policy text, sync cursor."""

    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class SchoolClass(ClassColumns, Base):
    __tablename__ = "classes"


class Break(BreakColumns, Base):
    __tablename__ = "breaks"


class MealSlot(MealSlotColumns, Base):
    __tablename__ = "meal_slots"
    __table_args__ = (ForeignKeyConstraint(["class_id"], ["classes.id"], ondelete="CASCADE"),)


class Student(StudentColumns, Base):
    __tablename__ = "students"
    __table_args__ = (ForeignKeyConstraint(["class_id"], ["classes.id"]), Index("ix_students_class_id", "class_id"))


class Card(CardColumns, Base):
    __tablename__ = "cards"
    __table_args__ = (ForeignKeyConstraint(["student_id"], ["students.id"]), Index("ix_cards_student_id", "student_id"),
                      Index("ix_cards_key32", "key32"), Index("ix_cards_key24", "key24"))


class Entitlement(EntitlementColumns, Base):
    """Only what serving needs: the order's number and the documents' reason stay on the server."""

    __tablename__ = "entitlements"
    __table_args__ = (ForeignKeyConstraint(["student_id"], ["students.id"]),
                      Index("ix_entitlements_student_id", "student_id"))


class Order(OrderColumns, Base):
    __tablename__ = "orders"


class MenuPrice(MenuPriceColumns, Base):
    __tablename__ = "menu_prices"


class Holiday(HolidayColumns, Base):
    __tablename__ = "holidays"


class StaffMember(StaffColumns, Base):
    __tablename__ = "staff"


class ClassDayOff(ClassDayOffColumns, Base):
    __tablename__ = "class_days_off"


HEX32 = "^[0-9a-f]{32}$"  # an event id: a UUID's 32 lowercase hex digits
MONEY_LIMIT = 100_000_000  # a million roubles in kopecks: far beyond any meal, catches garbage


class EventFields:
    """The fields of a journal event, the same on the terminal and on the server (the wire's shape).

    The one definition of the event: the column order is `sync.wire.EVENT_FIELDS`, and from these
    columns come the journal's INSERT and `Entry` (`pos.journal`), the sync client's JSON and the wire
    struct (`sync.wire.WireEvent`). A string's longest value is its `String(n)`; `info` adds what the
    column type cannot say: `enum` (the values allowed), `pattern`, `min_length`, `max_length` (of a
    `Text`), `ge`/`le` (of an integer). A default or a nullable column makes the field optional on the wire.
    """

    id: Mapped[str] = mapped_column(String(32), primary_key=True, info={"pattern": HEX32})
    terminal_id: Mapped[str] = mapped_column(String(64), info={"min_length": 1})
    # Each store declares its own `seq` (the terminal's is unique, the server's BigInteger per terminal);
    # this one places it in the column order and bounds it on the wire.
    seq: Mapped[int] = mapped_column(BigInteger, info={"ge": 1, "le": 2**62})
    kind: Mapped[str] = mapped_column(String(16), info={"enum": EventKind})
    at_utc: Mapped[datetime] = mapped_column(DateTime)  # naive UTC
    local_date: Mapped[date] = mapped_column(Date)  # the school's date
    student_id: Mapped[str | None] = mapped_column(String(64))
    card_uid: Mapped[str | None] = mapped_column(String(64))
    meal: Mapped[str | None] = mapped_column(String(16), info={"enum": Meal})
    outcome: Mapped[str] = mapped_column(String(16), info={"enum": Outcome})
    reason: Mapped[str] = mapped_column(String(32), default="")
    message: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_MAX})
    paid_kopecks: Mapped[int] = mapped_column(Integer, default=0, info={"ge": -MONEY_LIMIT, "le": MONEY_LIMIT})
    free_kopecks: Mapped[int] = mapped_column(Integer, default=0, info={"ge": -MONEY_LIMIT, "le": MONEY_LIMIT})
    budget_line: Mapped[str | None] = mapped_column(String(64))
    ref_event_id: Mapped[str | None] = mapped_column(String(32), info={"pattern": HEX32})
    source: Mapped[str] = mapped_column(String(16), default="card")
    staff: Mapped[str] = mapped_column(String(STAFF_MAX), default="")
    note: Mapped[str] = mapped_column(Text, default="", info={"max_length": NOTE_MAX})
    flags: Mapped[str] = mapped_column(String(FLAGS_MAX), default="")
    # What made the meal free, as decided at the window (`pos.policy.FreeMeal`): the benefit category
    # ("" for the grade's own right) and the policy's rule; "" on paid meals and refusals, and on events
    # of terminals older than these fields (the server default: an ALTER that costs nothing on a big table).
    free_category: Mapped[str] = mapped_column(String(64), default="", server_default=text("''"))
    free_rule: Mapped[str] = mapped_column(String(80), default="", server_default=text("''"))


class Event(EventFields, Base):
    """One journal entry: a serve, a refusal, an override or a reversal. Never updated or deleted."""

    __tablename__ = "events"
    seq: Mapped[int] = mapped_column(Integer, unique=True)


class Outbox(Base):
    """Events waiting to be acknowledged by the server, in journal order."""

    __tablename__ = "outbox"
    seq: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[str] = mapped_column(String(32), unique=True)


class Served(Base):
    """Meals given today and not reversed: derived from the journal, kept in the same transaction."""

    __tablename__ = "served"
    student_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    local_date: Mapped[date] = mapped_column(Date, primary_key=True)
    meal: Mapped[str] = mapped_column(String(16), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(32))
    at_utc: Mapped[datetime] = mapped_column(DateTime)
    paid_kopecks: Mapped[int] = mapped_column(Integer, default=0)
    free_kopecks: Mapped[int] = mapped_column(Integer, default=0)


Index("ix_events_local_date", Event.local_date)
Index("ix_entitlements_student_category", Entitlement.student_id, Entitlement.category)
Index("ix_events_ref_event_id", Event.ref_event_id)


class Rejected(Base):
    """Events the server refused (a 4xx or a per-event rejection), kept for staff to see.

    Moved here out of the outbox so one bad event never wedges the queue; the event itself stays in
    the journal, so nothing is silently dropped.
    """

    __tablename__ = "rejected"
    event_id: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, index=True)
    reason: Mapped[str] = mapped_column(String(64))
    message: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime)


class _Spec(DeclarativeBase):
    pass


class _EventSpec(EventFields, _Spec):
    """`EventFields` resolved by SQLAlchemy into one table (types, nullability, defaults, info) of a
    metadata of its own, never created: the record's definition that the journal and the wire read."""

    __tablename__ = "event_fields"


EVENT_COLUMNS = tuple(_EventSpec.__table__.columns)  # in declared order; `EventFields` is the source


REFERENCE: dict[str, type] = {
    "classes": ClassColumns, "breaks": BreakColumns, "meal_slots": MealSlotColumns, "students": StudentColumns,
    "cards": CardColumns, "entitlements": EntitlementColumns, "orders": OrderColumns,
    "menu_prices": MenuPriceColumns, "holidays": HolidayColumns, "staff": StaffColumns,
    "class_days_off": ClassDayOffColumns,
}


def sent_columns(columns: type) -> tuple[str, ...]:
    """The columns of a shared definition that a pull sends: all but those the terminal derives."""
    return tuple(name for name, value in vars(columns).items()
                 if isinstance(value, MappedColumn) and not value.column.info.get(DERIVED))


def reference_models(base: type[DeclarativeBase]) -> dict[str, type[Any]]:
    """Wire name -> the model of `base`'s registry built on that table's shared columns."""
    models: dict[str, type[Any]] = {}
    for name, columns in REFERENCE.items():
        built_on: list[type[Any]] = [m.class_ for m in base.registry.mappers if issubclass(m.class_, columns)]
        [model] = built_on
        assert model.__tablename__ == name, f"{model.__name__} is table {model.__tablename__}, not {name}"
        models[name] = model
    return models


TERMINAL_MODELS = reference_models(Base)
