"""Validating one row of an import: column specs, cell parsers and the errors they report.

Each import kind declares its columns (`Col`): the English key, Russian and English header
aliases, a parser and whether it is required. A cell that does not parse is a `RowError` with
the row number and the column name as the user sees them; rows are never half-read.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any

from drivers.card import CardIdError, parse_card_id
from pos.domain import MEAL_TITLES, Meal
from pos.money import parse_rub
from server.tabular import norm_header


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


@dataclass(frozen=True)
class Col:
    key: str
    aliases: tuple[str, ...]
    parse: Parser
    required: bool = True

    @property
    def title(self) -> str:
        return self.aliases[0]


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


def day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    raw = _str(value)
    for fmt in ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y"):
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise CellError(f"неверная дата «{raw[:40]}» (ожидается ДД.ММ.ГГГГ или ГГГГ-ММ-ДД)")


def moment(value: Any) -> datetime:
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    raw = _str(value)
    for fmt in ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M"):
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    return datetime.combine(day(raw), time())


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


def rubles(value: Any) -> int:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return round(value * 100)
    try:
        return parse_rub(_str(value))
    except ValueError as exc:
        raise CellError(str(exc)) from None


def positive_rubles(value: Any) -> int:
    amount = rubles(value)
    if amount <= 0:
        raise CellError("сумма должна быть больше нуля")
    return amount


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
    """Column key -> index in the file, and the problems with the header row."""
    index: dict[str, int] = {}
    wanted = {norm_header(a): c.key for c in cols for a in (*c.aliases, c.key)}
    for i, header in enumerate(headers):
        key = wanted.get(norm_header(header))
        if key is not None and key not in index:
            index[key] = i
    missing = [c.title for c in cols if c.required and c.key not in index]
    problems = [f"нет обязательного столбца «{m}»" for m in missing]
    return index, problems


def parse_row(number: int, cells: Sequence[Any] | Mapping[str, Any], cols: Iterable[Col],
              index: Mapping[str, int] | None, errors: list[RowError]) -> dict[str, Any] | None:
    """One row's values by column key, or None after adding its errors to `errors`."""
    row: dict[str, Any] = {}
    ok = True
    for col in cols:
        if isinstance(cells, Mapping):
            raw = cells.get(col.key)
        else:
            i = index.get(col.key) if index is not None else None
            raw = cells[i] if i is not None and i < len(cells) else None
        if col.required and _str(raw) == "":
            errors.append(RowError(number, col.title, "не заполнено"))
            ok = False
            continue
        try:
            row[col.key] = col.parse(raw)
        except CellError as exc:
            errors.append(RowError(number, col.title, str(exc)))
            ok = False
    return row if ok else None
