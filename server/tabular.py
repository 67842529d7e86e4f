"""Reading the tables schools already have (CSV from their information system, XLSX from Excel) as rows.

Headers are matched by name, in English or Russian, case- and ё-insensitively; the row number
reported for a problem is the one the user sees in Excel (the header is row 1).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any


class TableError(ValueError):
    """The file cannot be read as a table at all (Russian message)."""


def norm_header(text: Any) -> str:
    return " ".join(str(text or "").strip().lower().replace("ё", "е").replace("_", " ").split())


def read_table(data: bytes, filename: str) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """(headers, iterator of (row number, cells)) of a CSV or XLSX file; empty rows are skipped."""
    suffix = Path(filename).suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx(data)
    if suffix in (".csv", ".txt", ""):
        return _csv(data)
    raise TableError(f"формат файла {suffix} не поддерживается: нужен CSV или XLSX")


def _csv(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    for encoding in ("utf-8-sig", "cp1251"):  # Russian Excel saves CSV in cp1251
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - cp1251 decodes any byte string
        raise TableError("не удалось прочитать кодировку файла")
    first = text.split("\n", 1)[0]
    delimiter = max(";,\t", key=first.count)
    rows = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        headers = next(rows)
    except StopIteration:
        raise TableError("файл пуст") from None
    except csv.Error as exc:
        raise TableError(f"файл не читается как CSV: {exc}") from None

    def body() -> Iterator[tuple[int, list[Any]]]:
        try:
            for number, cells in enumerate(rows, 2):
                if any(c.strip() for c in cells):
                    yield number, list(cells)
        except csv.Error as exc:
            raise TableError(f"файл не читается как CSV: {exc}") from None

    return headers, body()


def _xlsx(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    import zipfile

    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError) as exc:
        raise TableError(f"файл не читается как XLSX: {exc}") from None
    sheet = book.worksheets[0]
    rows = sheet.iter_rows(values_only=True)
    try:
        headers = [str(h) if h is not None else "" for h in next(rows)]
    except StopIteration:
        raise TableError("лист пуст") from None

    def body() -> Iterator[tuple[int, list[Any]]]:
        for number, cells in enumerate(rows, 2):
            if any(c is not None and str(c).strip() for c in cells):
                yield number, list(cells)
        book.close()

    return headers, body()
