"""Validating one row of an import: column specs, cell parsers and the errors they report.

Each import kind declares its columns (`Col`): the English key, Russian and English header
aliases, a parser, whether it is required and an optional check against the day the import is
judged on (plausible dates). A cell that does not parse is a `RowError` with the row number and the
column name as the user sees them; rows are never half-read.

Every cell goes through `clean` first, whatever its source (CSV text, XLSX values, JSON): no
control characters, no NaN or infinity, at most MAX_CELL characters, text in Unicode NFC. So a
number typed in JSON or XLSX meets the same rules as the same number written in a CSV.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from drivers.card import CardIdError, parse_card_id
from pos.domain import MEAL_TITLES, Meal
from pos.money import format_rub, parse_rub
from server.tabular import MAX_CELL, norm_header


@dataclass(frozen=True)
class RowError:
    row: int
    column: str
    message: str

    def __str__(self) -> str:
        where = f", «{self.column}»" if self.column else ""
        return f"строка {self.row}{where}: {self.message}"


class CellError(ValueError):
    pass


Parser = Callable[[Any], Any]
Check = Callable[[Any, date], str | None]  # (parsed value, today) -> the problem, or None


@dataclass(frozen=True)
class Col:
    key: str
    aliases: tuple[str, ...]
    parse: Parser
    required: bool = True
    check: Check | None = None

    @property
    def title(self) -> str:
        return self.aliases[0]


# C0 and C1 control characters but tab and line breaks (Excel's Alt+Enter), and lone surrogates
# (JSON can carry "\ud800"; no database can store it).
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def clean(value: Any) -> Any:
    """A cell as the parsers may take it, or CellError: what no school file holds is refused here."""
    if value is None or isinstance(value, bool | int | date | time):  # datetime is a date
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise CellError(f"ожидается число, а не «{value}»")
        return value
    if isinstance(value, str):
        if len(value) > MAX_CELL:
            raise CellError(f"в ячейке больше {MAX_CELL} символов")
        bad = _CONTROL.search(value)
        if bad:
            raise CellError(f"в ячейке невидимый управляющий символ (код U+{ord(bad[0]):04X}): удалите его")
        return unicodedata.normalize("NFC", value)
    raise CellError("ожидается текст, число или дата")  # JSON lists and objects, Excel durations


def _str(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # Excel keeps ids typed as numbers: 1001 -> 1001.0
    return str(value).strip()


def text(limit: int) -> Parser:
    def parse(value: Any) -> str:
        result = _str(value)
        if len(result) > limit:
            raise CellError(f"длиннее {limit} символов")
        return result
    return parse


def ident(value: Any) -> str:
    result = _str(value)
    if not result or len(result) > 64:
        raise CellError("нужен код от 1 до 64 символов")
    return result


def integer(lo: int, hi: int) -> Parser:
    def parse(value: Any) -> int:
        try:
            result = int(_str(value))
        except ValueError:
            raise CellError(f"ожидается целое число, а не «{_str(value)[:40]}»") from None
        if not lo <= result <= hi:
            raise CellError(f"ожидается число от {lo} до {hi}")
        return result
    return parse


def _plausible(value: date) -> date:
    if not 1900 <= value.year <= 2100:
        raise CellError(f"неправдоподобная дата {value:%d.%m.%Y}")
    return value


def day(value: Any) -> date:
    if isinstance(value, datetime):
        return _plausible(value.date())
    if isinstance(value, date):
        return _plausible(value)
    raw = _str(value)
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"):
        try:
            return _plausible(datetime.strptime(raw, fmt).date())
        except ValueError:
            continue
    raise CellError(f"неверная дата «{raw[:40]}» (ожидается ДД.ММ.ГГГГ или ГГГГ-ММ-ДД)")


def moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        _plausible(value.date())
        return value.replace(tzinfo=None)
    if isinstance(value, date):
        return datetime.combine(_plausible(value), time())
    raw = _str(value)
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M"):
        try:
            result = datetime.strptime(raw, fmt)
        except ValueError:
            continue
        _plausible(result.date())
        return result
    return datetime.combine(day(raw), time())


def school_year(today: date) -> tuple[date, date]:
    """The school year `today` is in: 1 September to 31 August."""
    start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    return start, date(start.year + 1, 8, 31)


def this_or_next_school_year(value: date, today: date) -> str | None:
    """Orders are made for the current school year or the next one, never for a past one."""
    start, end = school_year(today)
    end = end.replace(year=end.year + 1)
    if start <= value <= end:
        return None
    return f"дата {value:%d.%m.%Y} вне текущего и следующего учебного года ({start:%d.%m.%Y}–{end:%d.%m.%Y})"


OLDEST_BIRTH = date(1990, 1, 1)


def birth(value: date, today: date) -> str | None:
    if value > today:
        return f"дата рождения {value:%d.%m.%Y} в будущем"
    if value < OLDEST_BIRTH:
        return f"дата рождения {value:%d.%m.%Y} раньше {OLDEST_BIRTH:%d.%m.%Y}: проверьте год"
    return None


def within_a_year(value: datetime, today: date) -> str | None:
    """A payment is dated in the last year, up to today (the school's date)."""
    oldest = today - timedelta(days=365)
    if value.date() > today:
        return f"дата {value:%d.%m.%Y} в будущем"
    if value.date() < oldest:
        return f"дата {value:%d.%m.%Y} старше года (раньше {oldest:%d.%m.%Y}): проверьте год"
    return None


def clock(value: Any) -> str:
    if isinstance(value, time):
        return value.strftime("%H:%M")
    raw = _str(value)
    if not re.fullmatch(r"([01]?\d|2[0-3]):[0-5]\d", raw):
        raise CellError(f"время ЧЧ:ММ, а не «{raw[:20]}»")
    return f"{int(raw.split(':')[0]):02d}:{raw.split(':')[1]}"


def flag(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    raw = _str(value).lower()
    if raw in ("1", "да", "yes", "true", "д", "+"):
        return True
    if raw in ("", "0", "нет", "no", "false", "н", "-"):
        return False
    raise CellError(f"ожидается «да» или «нет», а не «{raw[:20]}»")


def money(lo: int, hi: int) -> Parser:
    """Roubles as kopecks from lo to hi: text («1 000,50», the CSV way) or a number (XLSX, JSON)."""
    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise CellError(f"ожидается сумма в рублях, а не «{value}»")
        if isinstance(value, int | float):
            if value < 0:
                raise CellError("сумма не может быть отрицательной")
            if value * 100 > hi:  # before round(): 1e308 * 100 is infinite
                raise CellError(f"сумма больше {format_rub(hi)}")
            amount = round(value * 100)
            if abs(value * 100 - amount) > 1e-6 * max(1, amount):  # Excel's 48.58 is 48.579999…
                raise CellError(f"в сумме {value} больше двух знаков после запятой")
        else:
            raw = _str(value)
            if raw.startswith(("-", "\u2212")):
                raise CellError("сумма не может быть отрицательной")
            try:
                amount = parse_rub(raw)
            except ValueError as exc:
                raise CellError(str(exc)) from None
        if amount < lo:
            raise CellError("сумма должна быть больше нуля" if lo == 1 else f"сумма меньше {format_rub(lo)}")
        if amount > hi:
            raise CellError(f"сумма больше {format_rub(hi)}")
        return amount
    return parse


_MEALS = {**{m.value: m for m in Meal}, **{title: m for m, title in MEAL_TITLES.items()}}


def meal(value: Any) -> str:
    raw = _str(value).lower()
    if raw not in _MEALS:
        raise CellError(f"неизвестный приём пищи «{raw[:30]}»; допустимо: {', '.join(MEAL_TITLES.values())}")
    return _MEALS[raw].value


def meals(value: Any) -> tuple[str, ...]:
    parts = [p for p in re.split(r"[,;+/\s]+", _str(value).lower()) if p]
    return tuple(sorted({meal(p) for p in parts}))


def card(value: Any) -> str:
    try:
        return parse_card_id(_str(value))
    except CardIdError:
        raise CellError(f"номер карты не распознан: «{_str(value)[:40]}»") from None


def optional(parse: Parser) -> Parser:
    def wrapped(value: Any) -> Any:
        return None if _str(value) == "" else parse(value)
    return wrapped


def map_headers(headers: Sequence[str], cols: Sequence[Col]) -> tuple[dict[str, int], list[str]]:
    """Column key -> index in the file, and the problems with the header row (a column missing, or
    given twice: which of the two to believe is not for the import to guess)."""
    index: dict[str, int] = {}
    problems: list[str] = []
    wanted = {norm_header(a): c for c in cols for a in (*c.aliases, c.key)}
    for i, header in enumerate(headers):
        col = wanted.get(norm_header(header))
        if col is None:
            continue
        if col.key in index:
            first = str(headers[index[col.key]]).strip()
            same = f"«{first}»" if norm_header(first) == norm_header(header) else f"«{first}» и «{str(header).strip()}»"
            problems.append(f"столбец «{col.title}» указан дважды: {same} (столбцы {index[col.key] + 1} и {i + 1})")
            continue
        index[col.key] = i
    problems += [f"нет обязательного столбца «{c.title}»" for c in cols if c.required and c.key not in index]
    return index, problems


def parse_row(number: int, cells: Sequence[Any] | Mapping[str, Any], cols: Iterable[Col],
              index: Mapping[str, int] | None, errors: list[RowError], today: date) -> dict[str, Any] | None:
    """One row's values by column key, or None after adding its errors to `errors`; `today` is the
    day the columns' checks judge dates against."""
    row: dict[str, Any] = {}
    ok = True
    for col in cols:
        if isinstance(cells, Mapping):
            raw = cells.get(col.key)
        else:
            i = index.get(col.key) if index is not None else None
            raw = cells[i] if i is not None and i < len(cells) else None
        try:
            value = clean(raw)
            if col.required and _str(value) == "":
                raise CellError("не заполнено")
            row[col.key] = col.parse(value)
            problem = col.check(row[col.key], today) if col.check and row[col.key] is not None else None
            if problem:
                raise CellError(problem)
        except CellError as exc:
            errors.append(RowError(number, col.title, str(exc)))
            ok = False
    return row if ok else None


# Latin letters that look like Cyrillic ones, as people type class letters on an English layout.
_LOOKALIKES = str.maketrans("ABEKMHOPCTXY", "АВЕКМНОРСТХУ")  # after upper(): a, e, o, p, c, x, y, k too
_QUOTES = re.compile(r"[\"'«»„“”‟‘’‚‛`´]")
_DASHES = re.compile(r"[\u2010-\u2015\u2212\ufe58\ufe63\uff0d]")


def class_name(text: str) -> str:
    """The one spelling of a class, used wherever a class name is read or matched: Unicode NFC,
    Latin look-alikes made Cyrillic, no quotes or spaces, one kind of dash, none between the number
    and the letter, letters upper-case. «5-А», «5 «А»», «5 A» and «5а» are all «5А»; «10-1» stays.
    A class named by a word («6 инклюзия», «ГПД 1») is only tidied (NFC, one space, one kind of dash):
    upper-casing and joining are for the number-and-letter form alone."""
    tidy = " ".join(_DASHES.sub("-", _QUOTES.sub("", unicodedata.normalize("NFC", text))).split())
    name = "".join(tidy.upper().translate(_LOOKALIKES).split())
    if re.fullmatch(r"\d+-?[^\W\d_]|\d+-\d+|\d+", name):
        return re.sub(r"^(\d+)-(?=[^\d-])", r"\1", name)
    return tidy
