"""Top-ups from the bank: the payment registers (реестры платежей) a school receives for the parents'
payments into the children's personal accounts, previewed, then applied through the same top-up path
as every other import (`server.importer`, kind "topups": one rule for TopUp rows, balances and revs).

Formats supported
-----------------
``sber`` — Sberbank's register of payments accepted for an organisation (the text file the bank sends
by e-mail or through СберБизнес, named like ``ИНН_РС_НОМЕР_ММГГ.txt``; WIN-1251, KOI8-R or UTF-8 — the
encodings and the name its help gives for the registers exchanged with the bank:
https://www.sberbank.ru/help/business/sbbol/100027; KOI8-R is told from WIN-1251 by the letters' case).
One payment per line, fields separated by «;»::

    ДД-ММ-ГГГГ;ЧЧ-ММ-СС;ВСП;кассир/УС;номер операции;лицевой счёт;ФИО плательщика;[адрес/назначение…;]
    сумма платежа;сумма к перечислению;комиссия банка

and a final totals line ``=количество;сумма платежей[;сумма к перечислению;комиссия]``. Dates may use
dots (ДД.ММ.ГГГГ), times colons; amounts a dot or a comma. Lines starting with «#» are the bank's header
and are skipped. The totals line is checked against the rows (count and every sum given): a register
whose totals do not match is refused whole — it is damaged or edited by hand. Sberbank has no public
specification of this file: the bank sets a register's kind in the contract with the organisation (its
help page above says so of the registers sent to it). The layout read here is the common one; the
amounts are taken from the end of the line, so extra address or purpose fields do not matter. A register
of another layout is loaded as a table (below).

``csv`` — a table (CSV in UTF-8 or Windows-1251 with «;», «,» or tab; or XLSX) with named columns, as
the other banks' and payment services' registers are exported (ВТБ, Газпромбанк, regional banks, СБП
by QR through an acquirer: e.g. Точка's register is CSV with «;» and comma decimals,
https://developers.tochka.com/docs/pay-gateway/registry; LANBilling's register import takes the same
fields: account, unique payment number, date, amount, https://docs.lanbilling.ru/40/payments/registries/prepare_file/).
Columns: «Лицевой счёт», «Сумма», «Дата» (with an optional «Время»), «Номер операции»; optional «ФИО
плательщика», «Комиссия». A row without an operation number one of whose cells starts with «Итого» is the
totals row, checked like Sberbank's.

Rules
-----
The personal account (лицевой счёт) is the student's code in the school (`Student.id`), the one the
student list and the cards are loaded with; a payment to a student who left is still credited (the
money is the account's). The amount credited is what the parent paid (сумма платежа); the bank's
commission is only reported. Money is read exactly (Decimal) into integer kopecks.

A TopUp's reference is the bank's operation number prefixed with the format (``sber:…``, ``csv:…``), so
importing a register again is harmless: the same operation with the same data is shown as already
imported. Nothing is skipped silently: every other row is a conflict shown in the preview and kept in
`payment_conflicts` (with the import's saved report), while the rows without conflicts are applied —
a parent's correct payment should not wait for a stranger's typo. Conflicts: unknown account; the
operation number already imported with another account, amount or date; the operation twice in the
file; a bad amount (not a number, zero, negative, more than two decimals, above the top-up limit); a bad
date (unreadable, in the future, older than a year). The coordinator assigns a conflict to a student
(applied then, through the same path) or dismisses it with a reason. A conflict's row met again in a
later register is recognised by its data and not kept twice; an open one whose problem is gone (the
student was added since) is applied and closed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Connection, insert, select, update

from pos.lookup import SQLITE_IN_CHUNK as CHUNK
from pos.money import format_rub
from server import importer
from server import rows as r
from server.accounts import utcnow
from server.models import PaymentConflict, PaymentImport, School, Student, TopUp
from server.office.audit import record_change
from server.office.changes import NotFound, OfficeError
from server.tabular import MAX_FILE_BYTES, TableError, excel_safe, norm_header, read_table

FORMATS = {"sber": "Сбербанк: реестр платежей (текст, поля через «;», строка итогов «=»)",
           "csv": "таблица CSV или XLSX со столбцами «Лицевой счёт», «Сумма», «Дата», «Номер операции»"}
KINDS = {"unknown_account": "неизвестный лицевой счёт", "reference_differs": "номер операции уже загружен",
         "duplicate": "повтор в файле", "amount": "неверная сумма", "date": "неверная дата",
         "row": "строка не читается"}
STATUSES = {"open": "не разобран", "assigned": "зачислен вручную", "dismissed": "отклонён",
            "applied": "зачислен при повторной загрузке"}
MAX_REF = 90  # the operation number; the TopUp reference is 100 with its prefix
_SBER_LINE = re.compile(r"\s*\d{2}[-.]\d{2}[-.]\d{4}\s*;")
_NUMBER = re.compile(r"[-+]?\d{1,15}(?:\.\d{1,15})?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


class PaymentsRefused(OfficeError):
    """The register is refused whole (damaged, not a register, totals not matching): nothing written."""


@dataclass
class Row:
    """One payment of a register as read, then judged (`status`: new, done, conflict, known)."""

    line: int
    fmt: str
    op_id: str
    account: str
    payer: str
    raw_amount: str
    raw_date: str
    amount: int | None = None
    paid_at: datetime | None = None
    commission: int = 0
    problem: tuple[str, str] | None = None  # (kind, message) found reading the row
    kind: str = ""  # a conflict's kind (KINDS)
    message: str = ""
    status: str = "new"
    student: str = ""  # the student's name when the account is known
    closes: int | None = None  # an open conflict this row, now clean, resolves
    fingerprint: str = ""

    @property
    def reference(self) -> str:
        return f"{self.fmt}:{self.op_id}"

    def refuse(self, kind: str, message: str) -> None:
        if not self.kind:
            self.kind, self.message, self.status = kind, message, "conflict"

    def spoilt(self, kind: str, message: str) -> None:
        """A problem of the row itself (as read), whatever the school's data."""
        self.problem = self.problem or (kind, message)


@dataclass
class Register:
    fmt: str
    filename: str
    digest: str  # SHA-256 of the file
    rows: list[Row]
    totals_checked: str = ""  # what the totals line confirmed (Russian), "" when the file has none
    commission: int = 0

    @property
    def total(self) -> int:
        return sum(row.amount or 0 for row in self.rows)


@dataclass
class Preview:
    register: Register
    rows: list[Row] = field(default_factory=list)

    def of(self, status: str) -> list[Row]:
        return [row for row in self.rows if row.status == status]

    @property
    def new_kopecks(self) -> int:
        return sum(row.amount or 0 for row in self.of("new"))

    @property
    def digest(self) -> str:
        """What the user saw: applying after the data moved on is not what was confirmed."""
        seen = [(row.line, row.status, row.kind, row.amount, row.account) for row in self.rows]
        return hashlib.sha256(json.dumps([self.register.digest, seen], default=str).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Applied:
    import_id: int
    applied: int
    applied_kopecks: int
    already: int
    conflicts: int  # kept now in payment_conflicts
    known: int  # conflicts met before (not kept twice)


# ---- reading the file ----

def _decimal(text: str) -> Decimal:
    raw = str(text).strip().translate(str.maketrans("", "", " \u00a0\u202f\u2009")).replace(",", ".")
    if raw.endswith(("₽", "р.")):
        raw = raw.rstrip("₽р.").rstrip()
    if not _NUMBER.fullmatch(raw):
        raise ValueError(f"сумма «{str(text).strip()[:40]}» — не число")
    try:
        return Decimal(raw)
    except InvalidOperation:
        raise ValueError(f"сумма «{str(text).strip()[:40]}» — не число") from None


def _kopecks(value: Decimal, what: str = "сумма") -> int:
    cents = value * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{what} {value} — больше двух знаков после запятой")
    return int(cents)


def _payment_kopecks(text: Any) -> int:
    """A payment's amount as kopecks, or ValueError (Russian): more than zero, at most the top-up limit."""
    if isinstance(text, bool):
        raise ValueError("сумма — не число")
    value = Decimal(str(text)) if isinstance(text, int | float) else _decimal(str(text))
    kopecks = _kopecks(value)
    if kopecks < 0:
        raise ValueError(f"сумма {value} отрицательная")
    if kopecks == 0:
        raise ValueError("сумма равна нулю")
    if kopecks > importer.MAX_TOPUP_KOPECKS:
        raise ValueError(f"сумма больше {format_rub(importer.MAX_TOPUP_KOPECKS)}")
    return kopecks


def _text(value: Any, limit: int) -> str:
    text = "" if value is None else (str(int(value)) if isinstance(value, float) and value.is_integer()
                                     else str(value))
    return " ".join(_CONTROL.sub(" ", text).split())[:limit]


def _decode(data: bytes) -> str:
    if len(data) > MAX_FILE_BYTES:
        raise PaymentsRefused(f"файл больше {MAX_FILE_BYTES // 1024 // 1024} МБ: это не реестр платежей школы")
    if b"\x00" in data:
        raise PaymentsRefused("это двоичный файл, а не текстовый реестр платежей")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    for encoding in ("utf-8", "cp1251"):
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        raise PaymentsRefused("реестр не в кодировке UTF-8 или Windows-1251")
    if encoding == "cp1251" and _looks_koi8(text):
        text = data.decode("koi8_r", errors="replace")
    bad = _CONTROL.search(text)
    if bad:
        raise PaymentsRefused(f"в файле управляющий символ (код U+{ord(bad[0]):04X}): это не текстовый реестр")
    return text


def _looks_koi8(text: str) -> bool:
    """KOI8-R read as Windows-1251 swaps the letters' case: names and addresses come out mostly capitals."""
    letters = [c for c in text if "\u0410" <= c <= "\u044f"]
    return len(letters) >= 20 and sum(c.isupper() for c in letters) > 0.7 * len(letters)


def _sber_moment(day_text: str, time_text: str) -> datetime:
    day_text, time_text = day_text.strip().replace(".", "-"), time_text.strip().replace(":", "-")
    day = datetime.strptime(day_text, "%d-%m-%Y").date()
    clock = time()
    for fmt in ("%H-%M-%S", "%H-%M"):
        try:
            clock = datetime.strptime(time_text, fmt).time()
            break
        except ValueError:
            continue
    else:
        if time_text:
            raise ValueError
    if not 1990 <= day.year <= 2100:
        raise ValueError
    return datetime.combine(day, clock)


def _read_amount(row: Row, text: str) -> None:
    try:
        row.amount = _payment_kopecks(text)
    except ValueError as exc:
        row.spoilt("amount", str(exc))


def _sum_or_none(values: Iterable[str]) -> Decimal | None:
    total = Decimal(0)
    for value in values:
        try:
            total += _decimal(value)
        except ValueError:
            return None
    return total


def _rub(value: Decimal) -> str:
    """«850,50 ₽» for a sum in roubles read exactly."""
    return format_rub(int((value * 100).to_integral_value()))


def _check_totals(line: int, count: int, sums: Sequence[tuple[str, str, Decimal | None]], rows: int) -> str:
    """Refuses the register unless its totals line matches its rows; says what it confirmed."""
    if count != rows:
        raise PaymentsRefused(f"строка {line}, итоги: в реестре {count} платежей, а строк платежей {rows}; "
                              "реестр повреждён или изменён — ничего не загружено")
    for title, given, actual in sums:
        if actual is None:
            continue  # a row's figure is not a number: that row is a conflict of its own
        try:
            stated = _decimal(given)
        except ValueError:
            raise PaymentsRefused(f"строка {line}, итоги: {title} «{given[:40]}» — не число") from None
        if stated != actual:
            raise PaymentsRefused(
                f"строка {line}, итоги: {title} {_rub(stated)} не равна сумме строк {_rub(actual)}; "
                "реестр повреждён или изменён — ничего не загружено")
    return f"итоги сверены: платежей {count}"


def parse_sber(text: str, filename: str, digest: str) -> Register:
    rows: list[Row] = []
    transfers: list[str] = []
    fees: list[str] = []
    totals: tuple[int, list[str]] | None = None
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        if totals is not None:
            raise PaymentsRefused(f"строка {number}: после строки итогов ({totals[0]}) ещё строки; "
                                  "реестр повреждён — ничего не загружено")
        fields = [f.strip() for f in line.split(";")]
        while fields and fields[-1] == "":
            fields.pop()
        if line.lstrip().startswith("="):
            fields[0] = fields[0].lstrip().lstrip("=").strip()
            totals = (number, fields)
            continue
        if len(fields) < 10 or not _SBER_LINE.match(line):
            raise PaymentsRefused(
                f"строка {number}: ожидается платёж «ДД-ММ-ГГГГ;время;ВСП;кассир;номер операции;лицевой счёт;"
                "ФИО;…;сумма;сумма к перечислению;комиссия», а полей " + str(len(fields)) +
                " — это не реестр Сбербанка (выберите формат «таблица»?)")
        row = Row(number, "sber", _text(fields[4], 200), _text(fields[5], 100), _text(fields[6], 200),
                  fields[-3], f"{fields[0]} {fields[1]}")
        transfers.append(fields[-2])
        fees.append(fields[-1])
        try:
            row.paid_at = _sber_moment(fields[0], fields[1])
        except ValueError:
            row.spoilt("date", f"дата «{row.raw_date[:40]}» не читается (ожидается ДД-ММ-ГГГГ;ЧЧ-ММ-СС)")
        _read_amount(row, fields[-3])
        try:
            commission = _decimal(fields[-1])
            row.commission = _kopecks(commission, "комиссия")
        except ValueError as exc:
            row.spoilt("amount", str(exc))
        rows.append(row)
    if not rows:
        raise PaymentsRefused("в реестре нет ни одного платежа")
    register = Register("sber", filename, digest, rows, commission=sum(row.commission for row in rows))
    if totals is None:
        raise PaymentsRefused("в реестре нет строки итогов «=количество;сумма»: файл обрезан — ничего не загружено")
    at, given = totals
    try:
        count = int(given[0])
    except (ValueError, IndexError):
        raise PaymentsRefused(f"строка {at}: строка итогов должна начинаться с «=количество платежей»") from None
    if len(given) < 2:
        raise PaymentsRefused(f"строка {at}: в строке итогов нет общей суммы")
    sums = [("сумма платежей", given[1], _sum_or_none(row.raw_amount for row in rows))]
    if len(given) > 2:
        sums.append(("сумма к перечислению", given[2], _sum_or_none(transfers)))
    if len(given) > 3:
        sums.append(("комиссия", given[3], _sum_or_none(fees)))
    register.totals_checked = _check_totals(at, count, sums, len(rows))
    return register


# the generic table's columns: key -> aliases (the first is the title)
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "account": ("Лицевой счёт", "лицевой счет", "л/с", "лс", "номер лицевого счета", "код ученика", "account"),
    "amount": ("Сумма", "сумма платежа", "сумма, руб", "сумма операции", "amount", "sum"),
    "date": ("Дата", "дата платежа", "дата операции", "date", "trans_date"),
    "time": ("Время", "время платежа", "время операции", "time"),
    "op_id": ("Номер операции", "номер платежа", "уникальный номер операции", "идентификатор операции",
              "id операции", "transaction_id", "reference"),
    "payer": ("ФИО плательщика", "плательщик", "фио", "payer"),
    "commission": ("Комиссия", "комиссия банка", "commission"),
}
_REQUIRED = ("account", "amount", "date", "op_id")


def parse_table(data: bytes, filename: str, digest: str) -> Register:
    try:
        headers, body = read_table(data, filename)
        cols = [r.Col(key, aliases, r.text(10_000), required=key in _REQUIRED) for key, aliases in
                TABLE_COLUMNS.items()]
        index, problems = r.map_headers(headers, cols)
        if problems:
            raise PaymentsRefused("; ".join(problems))
        grid = list(body)
    except TableError as exc:
        raise PaymentsRefused(str(exc)) from None
    rows: list[Row] = []
    totals: tuple[int, Any] | None = None

    def cell(cells: list[Any], key: str) -> Any:
        i = index.get(key)
        return cells[i] if i is not None and i < len(cells) else None

    for number, cells in grid:
        account = _text(cell(cells, "account"), 100)
        if not _text(cell(cells, "op_id"), 10) and any(isinstance(c, str) and norm_header(c).startswith("итого")
                                                       for c in cells):
            totals = (number, cell(cells, "amount"))
            continue
        when, clock = cell(cells, "date"), cell(cells, "time")
        row = Row(number, "csv", _text(cell(cells, "op_id"), 200), account, _text(cell(cells, "payer"), 200),
                  _text(cell(cells, "amount"), 40), _text(when, 40) + (f" {_text(clock, 20)}" if clock else ""))
        try:
            moment = r.moment(r.clean(when))
            if clock not in (None, "") and moment.time() == time():
                moment = datetime.combine(moment.date(), datetime.strptime(r.clock(r.clean(clock)), "%H:%M").time())
            row.paid_at = moment
        except (r.CellError, ValueError):
            row.spoilt("date", f"дата «{row.raw_date[:40]}» не читается (ожидается ДД.ММ.ГГГГ)")
        amount = cell(cells, "amount")
        try:
            row.amount = _payment_kopecks(amount if isinstance(amount, int | float) else _text(amount, 40))
        except ValueError as exc:
            row.spoilt("amount", str(exc))
        fee = cell(cells, "commission")
        if fee not in (None, ""):
            try:
                row.commission = _kopecks(Decimal(str(fee)) if isinstance(fee, int | float) else _decimal(str(fee)),
                                          "комиссия")
            except ValueError as exc:
                row.spoilt("amount", str(exc))
        rows.append(row)
    if not rows:
        raise PaymentsRefused("в реестре нет ни одного платежа")
    register = Register("csv", filename, digest, rows, commission=sum(row.commission for row in rows))
    if totals is not None:
        stated = totals[1]
        given = str(Decimal(str(stated))) if isinstance(stated, int | float) else _text(stated, 40)
        register.totals_checked = _check_totals(
            totals[0], len(rows), [("сумма платежей", given, _sum_or_none(row.raw_amount for row in rows))], len(rows))
    return register


def detect(data: bytes, filename: str) -> str:
    """«sber» for a text whose first payment line is Sberbank's, «csv» otherwise."""
    if data[:4] in (b"PK\x03\x04", b"\xd0\xcf\x11\xe0") or Path(filename).suffix.lower() in (".xlsx", ".xls"):
        return "csv"
    head = data[:4096].decode("cp1251", errors="replace")
    for line in head.splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            return "sber" if _SBER_LINE.match(line) and line.count(";") >= 9 else "csv"
    return "csv"


def parse(data: bytes, filename: str, fmt: str = "auto") -> Register:
    """The register's payments as read, or PaymentsRefused for a file that cannot be one."""
    if not data:
        raise PaymentsRefused("файл пуст")
    if len(data) > MAX_FILE_BYTES:
        raise PaymentsRefused(f"файл больше {MAX_FILE_BYTES // 1024 // 1024} МБ: это не реестр платежей школы")
    fmt = detect(data, filename) if fmt in ("", "auto") else fmt
    digest = hashlib.sha256(data).hexdigest()
    name = Path(filename).name[:200] or "реестр"
    if fmt == "sber":
        register = parse_sber(_decode(data), name, digest)
    elif fmt == "csv":
        register = parse_table(data, name, digest)
    else:
        raise PaymentsRefused(f"неизвестный формат реестра «{fmt[:20]}»; допустимо: {', '.join(FORMATS)}")
    for row in register.rows:
        if not row.op_id or len(row.op_id) > MAX_REF:
            row.spoilt("row", "нет номера операции" if not row.op_id else f"номер операции длиннее {MAX_REF} символов")
        elif not row.account:
            row.spoilt("unknown_account", "не указан лицевой счёт")
        row.payer = str(excel_safe(row.payer))[:200]  # a name is shown and exported, never computed
    return register


# ---- judging the rows against the school ----

def _school_today(conn: Connection, school_id: str) -> date:
    school = conn.execute(select(School.timezone).where(School.id == school_id)).first()
    if school is None:
        raise NotFound(f"школа {school_id!r} не найдена")
    return datetime.now(ZoneInfo(school.timezone)).date()


def _fingerprints(rows: Sequence[Row]) -> None:
    occurrences: dict[tuple[str, ...], int] = {}
    for row in rows:
        key = (row.fmt, row.op_id, row.account, row.raw_amount, row.raw_date)
        occurrences[key] = occurrences.get(key, 0) + 1
        row.fingerprint = hashlib.sha256(json.dumps([*key, occurrences[key]]).encode()).hexdigest()


def _in_chunks(conn: Connection, query: Any, column: Any, values: Sequence[str]) -> list[Any]:
    found: list[Any] = []
    for i in range(0, len(values), CHUNK):
        found += conn.execute(query.where(column.in_(values[i:i + CHUNK]))).all()
    return found


def preview(conn: Connection, school_id: str, register: Register, today: date | None = None) -> Preview:
    """What applying the register would do, row by row; nothing is written."""
    today = today or _school_today(conn, school_id)
    students = dict(conn.execute(select(Student.id, Student.full_name).where(Student.school_id == school_id))
                    .tuples().all())
    rows = register.rows
    for row in rows:  # a preview judges afresh: the row as read
        row.kind, row.message, row.status = (*(row.problem or ("", "")), "conflict" if row.problem else "new")
        row.closes, row.student = None, students.get(row.account, "")
    _fingerprints(rows)
    earlier = {t.reference: t for t in _in_chunks(
        conn, select(TopUp.reference, TopUp.student_id, TopUp.amount_kopecks, TopUp.paid_at, TopUp.imported_at)
        .where(TopUp.school_id == school_id), TopUp.reference, [row.reference for row in rows])}
    known = {c.fingerprint: c for c in _in_chunks(
        conn, select(PaymentConflict.id, PaymentConflict.fingerprint, PaymentConflict.status)
        .where(PaymentConflict.school_id == school_id), PaymentConflict.fingerprint, [row.fingerprint for row in rows])}
    seen: dict[str, int] = {}
    for row in rows:
        if row.status == "conflict":
            pass
        elif row.reference in seen:
            row.refuse("duplicate", f"операция № {row.op_id} уже есть в строке {seen[row.reference]} этого реестра")
        else:
            seen[row.reference] = row.line
            t = earlier.get(row.reference)
            if t is not None and (t.student_id, t.amount_kopecks, t.paid_at) == (row.account, row.amount, row.paid_at):
                row.status, row.message = "done", f"уже загружен {t.imported_at:%d.%m.%Y}"
            elif t is not None:
                row.refuse("reference_differs", (
                    f"операция № {row.op_id} уже загружена {t.imported_at:%d.%m.%Y}: лицевой счёт {t.student_id}, "
                    f"{format_rub(t.amount_kopecks)}, {t.paid_at:%d.%m.%Y %H:%M}; в этой строке другие данные"))
            elif row.account not in students:
                row.refuse("unknown_account", f"лицевого счёта «{row.account}» нет в школе")
            else:
                assert row.paid_at is not None
                problem = r.within_a_year(row.paid_at, today)
                if problem:
                    row.refuse("date", problem)
        c = known.get(row.fingerprint)
        if c is None or row.status == "done":
            continue
        if row.status == "new" and c.status == "open":
            row.closes = c.id  # its problem is gone: applied now, the conflict closed
        else:
            row.status = "known"
            row.message = f"уже в списке конфликтов (№ {c.id}, {STATUSES.get(c.status, c.status)})" + (
                f": {row.message}" if row.message else "")
    return Preview(register, list(rows))


# ---- applying ----

def _topup_rows(rows: Iterable[Row], reference: Any = None) -> list[tuple[int, dict[str, Any]]]:
    return [(row.line, {"student_id": row.account, "amount": _rub_text(row.amount), "paid_at": row.paid_at,
                        "reference": reference or row.reference}) for row in rows]


def _rub_text(kopecks: int | None) -> str:
    assert kopecks is not None
    return f"{kopecks // 100}.{kopecks % 100:02d}"


def _credit(conn: Connection, school_id: str, numbered: list[tuple[int, dict[str, Any]]], today: date) -> None:
    """Through the import of top-ups: its TopUp rows, balance rule and rev (`server.importer._topups`)."""
    try:
        importer.import_numbered(conn, school_id, "topups", numbered, today=today)
    except importer.ImportFailed as exc:
        raise PaymentsRefused("ничего не загружено: " + "; ".join(exc.errors[:20])) from None


def apply(conn: Connection, actor: str, school_id: str, data: bytes, filename: str, fmt: str = "auto", *,
          digest: str | None = None, today: date | None = None) -> tuple[Preview, Applied | None]:
    """Apply the register: its clean rows credited, its conflicts kept; (preview, None) without writing when
    `digest` is not the preview's (the data moved on since the user saw it)."""
    today = today or _school_today(conn, school_id)
    seen = preview(conn, school_id, parse(data, filename, fmt), today)
    if digest is not None and digest != seen.digest:
        return seen, None
    new, conflicts = seen.of("new"), seen.of("conflict")
    if new:
        _credit(conn, school_id, _topup_rows(new), today)
    register = seen.register
    now = utcnow()
    import_id = conn.execute(insert(PaymentImport).values(
        school_id=school_id, filename=register.filename, format=register.fmt, digest=register.digest,
        rows=len(seen.rows), total_kopecks=register.total, applied=len(new), applied_kopecks=seen.new_kopecks,
        already=len(seen.of("done")), conflicts=len(conflicts), commission_kopecks=register.commission,
        made_by=actor[:64], made_at=now).returning(PaymentImport.id)).scalar_one()
    if conflicts:
        conn.execute(insert(PaymentConflict), [{
            "school_id": school_id, "import_id": import_id, "line": row.line, "fingerprint": row.fingerprint,
            "kind": row.kind, "message": row.message, "reference": row.reference[:100], "account": row.account,
            "payer": row.payer, "amount_kopecks": row.amount, "paid_at": row.paid_at, "status": "open",
            "resolution": "", "resolved_by": "", "resolved_at": None} for row in conflicts])
    for row in new:
        if row.closes is not None:
            conn.execute(update(PaymentConflict).where(PaymentConflict.id == row.closes).values(
                status="applied", resolution=f"зачислен при загрузке реестра № {import_id}", resolved_by=actor[:64],
                resolved_at=now))
    result = Applied(import_id, len(new), seen.new_kopecks, len(seen.of("done")), len(conflicts),
                     len(seen.of("known")))
    record_change(conn, actor, school_id, "payments", import_id, "import", None,
                  {"file": register.filename, "format": register.fmt, "applied": result.applied,
                   "kopecks": result.applied_kopecks, "already": result.already, "conflicts": result.conflicts})
    return seen, result


# ---- the imports and conflicts, as the pages list them ----

def imports_list(conn: Connection, school_id: str, limit: int = 50) -> list[Any]:
    return list(conn.execute(select(PaymentImport).where(PaymentImport.school_id == school_id)
                             .order_by(PaymentImport.id.desc()).limit(limit)).all())


def _id(value: Any) -> int:
    """A row id from a form or URL; anything else (text, 0, beyond BIGINT) names no row."""
    text = str(value).strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2 ** 62 else -1


def import_report(conn: Connection, school_id: str, import_id: Any) -> tuple[Any, list[Any]]:
    """A saved import and the conflicts it kept (whatever became of them since)."""
    import_id = _id(import_id)
    found = conn.execute(select(PaymentImport).where(PaymentImport.school_id == school_id,
                                                     PaymentImport.id == import_id)).first()
    if found is None:
        raise NotFound("такой загрузки реестра в школе нет")
    return found, list(conn.execute(select(PaymentConflict).where(
        PaymentConflict.school_id == school_id, PaymentConflict.import_id == import_id)
        .order_by(PaymentConflict.line)).all())


def open_conflicts(conn: Connection, school_id: str) -> list[Any]:
    return list(conn.execute(select(PaymentConflict).where(
        PaymentConflict.school_id == school_id, PaymentConflict.status == "open")
        .order_by(PaymentConflict.id)).all())


def _open_conflict(conn: Connection, school_id: str, conflict_id: Any) -> Any:
    cid = _id(conflict_id)
    found = conn.execute(select(PaymentConflict).where(PaymentConflict.school_id == school_id,
                                                       PaymentConflict.id == cid)).first()
    if found is None:
        raise NotFound("такого конфликта нет")
    if found.status != "open":
        raise OfficeError(f"конфликт № {found.id} уже разобран: {STATUSES.get(found.status, found.status)}")
    return found


def assign(conn: Connection, actor: str, school_id: str, conflict_id: Any, student_id: str, *,
           today: date | None = None) -> int:
    """Credit a conflict's payment to a student chosen by hand; returns the kopecks credited."""
    today = today or _school_today(conn, school_id)
    c = _open_conflict(conn, school_id, conflict_id)
    if c.amount_kopecks is None or c.paid_at is None:
        raise OfficeError("у платежа нет верной суммы или даты: его можно только отклонить с причиной "
                          "(и загрузить исправленный платёж отдельно)")
    student_id = (student_id or "").strip()[:64]
    if conn.execute(select(Student.id).where(Student.school_id == school_id, Student.id == student_id)).first() is None:
        raise OfficeError(f"ученика с кодом «{student_id}» нет в школе")
    taken = conn.execute(select(TopUp.reference).where(TopUp.school_id == school_id,
                                                       TopUp.reference == c.reference)).first()
    reference = f"{c.reference[:80]}/конфликт-{c.id}" if taken else c.reference
    _credit(conn, school_id, [(c.line, {"student_id": student_id, "amount": _rub_text(c.amount_kopecks),
                                        "paid_at": c.paid_at, "reference": reference})], today)
    conn.execute(update(PaymentConflict).where(PaymentConflict.id == c.id).values(
        status="assigned", resolution=f"зачислен ученику {student_id} (платёж {reference})", resolved_by=actor[:64],
        resolved_at=utcnow()))
    record_change(conn, actor, school_id, "payment_conflict", c.id, "assign", {"status": "open"},
                  {"status": "assigned", "student_id": student_id, "kopecks": c.amount_kopecks})
    return int(c.amount_kopecks)


def dismiss(conn: Connection, actor: str, school_id: str, conflict_id: Any, reason: str) -> None:
    """Close a conflict without crediting anyone (a refund through the bank, a test payment…), with a reason."""
    c = _open_conflict(conn, school_id, conflict_id)
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        raise OfficeError("укажите причину, по которой платёж не зачисляется")
    conn.execute(update(PaymentConflict).where(PaymentConflict.id == c.id).values(
        status="dismissed", resolution=reason, resolved_by=actor[:64], resolved_at=utcnow()))
    record_change(conn, actor, school_id, "payment_conflict", c.id, "dismiss", {"status": "open"},
                  {"status": "dismissed", "reason": reason})
