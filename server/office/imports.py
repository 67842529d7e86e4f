"""A student list imported with a preview: read the file as the school has it, show what would change,
write only what the user confirmed.

A school's export rarely fits the importer's columns: a title above the header, ФИО in three
columns, no student code, the old .xls. `preview` finds the header among the first rows, maps the
columns by their names (the user may change the mapping), matches students without a code by name,
birth date and class, and reports who would be added, what would change field by field, who would
leave the school (with the money on their accounts) and every row error — writing nothing. The file
waits server-side under a random token (`store`/`load`) until `confirm` imports it, all or nothing,
through the same validation and writing as the CLI and API (`server.importer`). Fields the file has
no column for keep their stored values (a list without a diet column does not erase diet notes).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import secrets
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select

from pos.money import format_rub
from server import importer
from server import rows as r
from server.models import SchoolClass, Student
from server.office.audit import record_change
from server.tabular import TableError, norm_header, read_grid

HEADER_SEARCH_ROWS = 10
UPLOAD_TTL_S = 3600  # a preview left open longer is read again from a new upload
SKIP = ""  # the mapping of a column that is not loaded

# field key -> (title the user sees, header aliases)
FIELDS: dict[str, tuple[str, tuple[str, ...]]] = {
    "student_id": ("Код ученика", ("Код ученика", "ид ученика", "идентификатор", "id", "код")),
    "full_name": ("ФИО", ("ФИО", "Ф.И.О.", "фамилия имя отчество", "фамилия, имя, отчество", "фамилия имя",
                          "name", "ученик")),
    "last_name": ("Фамилия", ("Фамилия", "last name")),
    "first_name": ("Имя", ("Имя", "first name")),
    "middle_name": ("Отчество", ("Отчество", "middle name", "patronymic")),
    "class": ("Класс", ("Класс", "class_name", "class")),
    "shift": ("Смена", ("Смена", "shift")),
    "birth_date": ("Дата рождения", ("Дата рождения", "birth_date", "др")),
    "diet_note": ("Особенности питания", ("Особенности питания", "диета", "diet_note")),
    "daily_limit": ("Дневной лимит", ("Дневной лимит", "лимит", "daily_limit")),
    "active": ("Обучается", ("Обучается", "активен", "active")),
}
_ALIASES = {norm_header(a): key for key, (_title, aliases) in FIELDS.items() for a in aliases}
# What a change shows, in this order: (field key, title).
_SHOWN = (("full_name", "ФИО"), ("class", "Класс"), ("birth_date", "Дата рождения"), ("shift", "Смена"),
          ("diet_note", "Особенности питания"), ("daily_limit", "Дневной лимит"), ("active", "Обучается"))
_TOKEN = re.compile(r"[A-Za-z0-9_-]{20,64}")


class PreviewError(ValueError):
    """The file or the stored upload cannot be previewed (Russian message)."""


@dataclass(frozen=True)
class Change:
    student_id: str
    name: str
    fields: tuple[tuple[str, str, str], ...]  # (title, before, after)


@dataclass
class Preview:
    filename: str
    replace: bool
    header_row: int = 0
    headers: list[str] = field(default_factory=list)
    mapping: list[str] = field(default_factory=list)  # per file column: a FIELDS key or SKIP
    add: list[dict[str, str]] = field(default_factory=list)  # name, class, birth
    change: list[Change] = field(default_factory=list)
    leave: list[Any] = field(default_factory=list)  # id, full_name, class_id, balance_kopecks
    unchanged: int = 0
    errors: list[str] = field(default_factory=list)
    money_warning: str = ""
    rows: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # what confirm hands the importer

    @property
    def digest(self) -> str:
        """What the user saw: a confirm of another difference (the data moved on) is not a confirm."""
        seen = [self.replace, self.header_row, self.mapping, self.add, [(c.student_id, c.fields) for c in self.change],
                [(s.id, s.balance_kopecks) for s in self.leave], self.errors]
        return hashlib.sha256(json.dumps(seen, default=str, ensure_ascii=False).encode()).hexdigest()[:32]

    @property
    def ok(self) -> bool:
        return not self.errors and bool(self.rows)


# ---- the uploaded file, kept until confirmed ----

def _folder() -> Path:
    folder = Path(tempfile.gettempdir()) / "canteen-imports"
    folder.mkdir(mode=0o700, exist_ok=True)
    return folder


def store(data: bytes, filename: str, school_id: str, login: str) -> str:
    """Keep an upload for its preview; the token is the only way back to it (and only for its user)."""
    folder = _folder()
    now = time.time()
    for old in folder.iterdir():  # expired previews go with the next upload
        try:
            if now - old.stat().st_mtime > UPLOAD_TTL_S:
                old.unlink()
        except OSError:
            pass
    token = secrets.token_urlsafe(24)
    meta = json.dumps({"school_id": school_id, "login": login, "filename": Path(filename).name[:200]})
    fd = os.open(folder / token, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(meta.encode() + b"\n" + data)
    return token


def load(token: str, school_id: str, login: str) -> tuple[bytes, str]:
    """The upload of `token` as (data, file name), if it is this user's in this school and not expired."""
    gone = PreviewError("Загруженный файл не найден или устарел: выберите файл снова.")
    if not _TOKEN.fullmatch(token or ""):
        raise gone
    path = _folder() / token
    try:
        if time.time() - path.stat().st_mtime > UPLOAD_TTL_S:
            raise gone
        raw = path.read_bytes()
    except OSError:
        raise gone from None
    head, _, data = raw.partition(b"\n")
    meta = json.loads(head)
    if meta["school_id"] != school_id or meta["login"] != login:
        raise gone
    return data, str(meta["filename"])


def discard(token: str) -> None:
    if _TOKEN.fullmatch(token or ""):
        (_folder() / token).unlink(missing_ok=True)


# ---- reading the file ----

def find_header(grid: Sequence[tuple[int, list[Any]]]) -> int:
    """The index in `grid` of the header: of the first rows, the one naming the most known columns."""
    best, best_score = -1, 0
    for i, (_number, cells) in enumerate(grid[:HEADER_SEARCH_ROWS]):
        score = len({_ALIASES[norm_header(c)] for c in cells if isinstance(c, str) and norm_header(c) in _ALIASES})
        if score > best_score:
            best, best_score = i, score
    if best < 0:
        raise PreviewError(f"в первых {HEADER_SEARCH_ROWS} строках нет заголовков столбцов (ФИО или Фамилия, "
                           "Класс, …): проверьте, что это список учеников")
    return best


def default_mapping(headers: Sequence[str]) -> list[str]:
    """Each column's field by its name; a field named twice is taken from its first column only."""
    mapping: list[str] = []
    for h in headers:
        key = _ALIASES.get(norm_header(h), SKIP)
        mapping.append(SKIP if key in mapping else key)
    return mapping


def _mapping_problems(mapping: Sequence[str]) -> list[str]:
    used = [m for m in mapping if m]
    problems = [f"поле «{FIELDS[k][0]}» выбрано для нескольких столбцов" for k in dict.fromkeys(used)
                if used.count(k) > 1]
    if "full_name" not in used and not {"last_name", "first_name"} <= set(used):
        problems.append("укажите столбец «ФИО» или столбцы «Фамилия» и «Имя»")
    if "full_name" in used and {"last_name", "first_name", "middle_name"} & set(used):
        problems.append("выберите либо один столбец «ФИО», либо «Фамилия», «Имя», «Отчество»")
    if "class" not in used:
        problems.append("укажите столбец «Класс»")
    return problems


def _cell_text(value: Any) -> str:
    return "" if value is None else str(value).strip()


# ---- the preview ----

def preview(conn: Connection, school_id: str, data: bytes, filename: str, *, mapping: Sequence[str] | None = None,
            replace: bool = False, today: date | None = None) -> Preview:
    """What importing this student list would do; nothing is written. Raises PreviewError for a file
    that is not a table at all; every other problem is in `errors`."""
    try:
        grid = list(read_grid(data, filename))
    except TableError as exc:
        raise PreviewError(str(exc)) from None
    if not grid:
        raise PreviewError("файл пуст")
    at = find_header(grid)
    header_row, header_cells = grid[at]
    headers = [_cell_text(h)[:100] for h in header_cells]
    result = Preview(filename, replace, header_row, headers)
    chosen = [m if m in FIELDS else SKIP for m in mapping] if mapping is not None else default_mapping(headers)
    result.mapping = (chosen + [SKIP] * len(headers))[:len(headers)]
    result.errors = _mapping_problems(result.mapping)
    if result.errors:
        return result
    column = {key: i for i, key in enumerate(result.mapping) if key}
    existing = {s.id: s for s in conn.execute(select(
        Student.id, Student.full_name, Student.class_id, Student.birth_date, Student.diet_note,
        Student.daily_limit_kopecks, Student.active, Student.balance_kopecks).where(Student.school_id == school_id))}
    classes = {c.id: c for c in conn.execute(select(SchoolClass.id, SchoolClass.name, SchoolClass.shift)
                                             .where(SchoolClass.school_id == school_id))}
    by_person: dict[tuple[str, date | None, str], list[str]] = {}
    for s in existing.values():
        by_person.setdefault((_person(s.full_name), s.birth_date, s.class_id), []).append(s.id)
    errors: list[r.RowError] = []
    numbered: list[tuple[int, dict[str, Any]]] = []
    for number, cells in grid[at + 1:]:
        row = _row(cells, column)
        sid = _cell_text(row.get("student_id"))
        if not sid:
            sid = _match(number, row, by_person, errors, today)
            if not sid:
                continue
        row["student_id"] = sid
        _keep_stored(row, existing.get(sid), classes, column)
        numbered.append((number, row))
    try:
        parsed, _spellings = importer.validate(conn, school_id, "students", numbered, None, today)
    except importer.ImportFailed as exc:
        result.errors = sorted([str(e) for e in errors] + exc.errors, key=_row_no)
        return result
    if errors:
        result.errors = [str(e) for e in sorted(errors, key=lambda e: e.row)]
        return result
    result.rows = numbered
    for _number, row in parsed:
        _compare(result, row, existing.get(row["student_id"]), classes)
    if replace:
        result.leave = importer.leaving_students(conn, school_id, {row["student_id"] for _, row in parsed})
        result.money_warning = importer.money_warning(result.leave)
    return result


def _row_no(message: str) -> int:
    found = re.match(r"строка (\d+)", message)
    return int(found[1]) if found else 0


def _row(cells: Sequence[Any], column: Mapping[str, int]) -> dict[str, Any]:
    row = {key: cells[i] if i < len(cells) else None for key, i in column.items()}
    parts = [_cell_text(row.pop(k, None)) for k in ("last_name", "first_name", "middle_name")]
    if "full_name" not in column:
        row["full_name"] = " ".join(p for p in parts if p)
    return row


def _person(name: Any) -> str:
    return " ".join(_cell_text(name).lower().replace("ё", "е").split())


def _match(number: int, row: dict[str, Any], by_person: Mapping[tuple[str, date | None, str], list[str]],
           errors: list[r.RowError], today: date | None) -> str:
    """The code of the student this row without a code is: the one with the same name, birth date and
    class, or a new code for a new student; "" after an error (the row cannot be matched)."""
    name = _person(row.get("full_name"))
    try:
        birth = r.optional(r.day)(r.clean(row.get("birth_date")))
        cls = importer.class_id_of(_cell_text(r.clean(row.get("class"))))
    except r.CellError:
        return f"n-row{number}"  # the importer reports the cell itself
    if not name or not cls:
        return f"n-row{number}"
    found = by_person.get((name, birth, cls), [])
    if len(found) > 1:
        errors.append(r.RowError(number, "ФИО", f"в школе несколько учеников «{_cell_text(row.get('full_name'))}» "
                                                "с той же датой рождения в этом классе: укажите код ученика"))
        return ""
    if found:
        return found[0]
    digest = hashlib.sha256(f"{name}|{birth}|{cls}".encode()).hexdigest()[:10]
    return f"n-{digest}"  # the same person gets the same code in the preview and in the confirm


def _keep_stored(row: dict[str, Any], stored: Any, classes: Mapping[str, Any], column: Mapping[str, int]) -> None:
    """Fields the file has no column for keep what is stored (a new student gets the defaults)."""
    if stored is not None:
        if "birth_date" not in column:
            row["birth_date"] = stored.birth_date
        if "diet_note" not in column:
            row["diet_note"] = stored.diet_note
        if "daily_limit" not in column and stored.daily_limit_kopecks is not None:
            row["daily_limit"] = format_rub(stored.daily_limit_kopecks).removesuffix(" ₽")
    if "shift" not in column:
        try:
            cls = classes.get(importer.class_id_of(_cell_text(r.clean(row.get("class")))))
        except r.CellError:
            cls = None
        if cls is not None:
            row["shift"] = cls.shift


def _show(key: str, value: Any) -> str:
    if value is None or value == "":
        return "—"
    if key == "birth_date":
        return f"{value:%d.%m.%Y}"
    if key == "daily_limit":
        return format_rub(value)
    if key == "active":
        return "да" if value else "нет"
    return str(value)


def _compare(result: Preview, row: dict[str, Any], stored: Any, classes: Mapping[str, Any]) -> None:
    cid = importer.class_id_of(row["class"])
    after = {"full_name": row["full_name"], "class": row["class"], "birth_date": row["birth_date"],
             "shift": row["shift"] or 1, "diet_note": row["diet_note"], "daily_limit": row["daily_limit"],
             "active": True if row["active"] is None else row["active"]}
    if stored is None:
        result.add.append({"name": row["full_name"], "class": row["class"], "birth": _show("birth_date",
                                                                                           row["birth_date"])})
        return
    cls = classes.get(stored.class_id)
    before = {"full_name": stored.full_name, "class": cls.name if cls else stored.class_id,
              "birth_date": stored.birth_date, "shift": cls.shift if cls else 1, "diet_note": stored.diet_note,
              "daily_limit": stored.daily_limit_kopecks, "active": stored.active}
    if cid == stored.class_id:  # «5 А» in the file is the stored «5А»: the same class, not a change
        after["class"] = before["class"]
    fields = tuple((title, _show(key, before[key]), _show(key, after[key])) for key, title in _SHOWN
                   if _show(key, before[key]) != _show(key, after[key]))
    if fields:
        result.change.append(Change(stored.id, stored.full_name, fields))
    else:
        result.unchanged += 1


def confirm(conn: Connection, actor: str, school_id: str, data: bytes, filename: str, *, mapping: Sequence[str],
            replace: bool, digest: str, leaving_with_money: bool, today: date | None = None) -> tuple[Preview, Any]:
    """Import what the preview with `digest` showed: (the preview, the importer's result), or (a new
    preview, None) when it shows anything else now or still has errors, or money would leave unconfirmed."""
    seen = preview(conn, school_id, data, filename, mapping=mapping, replace=replace, today=today)
    if seen.digest != digest or not seen.ok:
        return seen, None
    if seen.money_warning and not leaving_with_money:
        seen.errors = [f"{seen.money_warning}: отметьте, что деньги учтены, и подтвердите снова"]
        return seen, None
    result = importer.import_numbered(conn, school_id, "students", seen.rows, replace=replace,
                                      leaving_with_money=leaving_with_money, today=today)
    record_change(conn, actor, school_id, "import", Path(filename).name[:100], "students_import", None, {
        "added": len(seen.add), "changed": len(seen.change), "left": [s.id for s in seen.leave],
        "left_with_kopecks": sum(abs(s.balance_kopecks) for s in seen.leave)})
    return seen, result
