"""Reading the tables schools already have (CSV from their information system, XLSX from Excel) as rows,
and writing tables that Excel opens without running anything.

Headers are matched by name, in English or Russian, case- and ё-insensitively; the row number
reported for a problem is the one the user sees in Excel (the header is row 1).

A file is judged before it is parsed, so no file costs a worker more than a bounded amount of
memory or time: its size, the XLSX archive's declared (uncompressed) member sizes, the length of
every text in the sheet and shared strings (streamed through expat first), the rows and the columns.
Python's zipfile never inflates a member beyond its declared size, so checking the declared sizes
is enough against zip bombs. Every refusal is a `TableError` with a Russian message.
"""

from __future__ import annotations

import codecs
import csv
import io
import pyexpat
import re
import warnings
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

MAX_FILE_BYTES = 16 * 1024 * 1024  # as the API's default request limit
MAX_ROWS = 200_000  # filled rows below the header
MAX_CELL = 10_000  # characters in one cell
MAX_COLUMNS = 256
EXCEL_MAX_ROW = 1_048_576  # the last row number a sheet may have
# XLSX: what the archive may declare once inflated. Sheets and shared strings are streamed (and
# scanned first); every other XML part (styles above all) openpyxl parses whole into objects of
# about 100 bytes per byte of XML, so those must stay small: Excel's own are tens of kilobytes.
XLSX_MAX_TOTAL = 200 * 1024 * 1024
XLSX_MAX_SHEET = 128 * 1024 * 1024
XLSX_MAX_STRINGS = 16 * 1024 * 1024
XLSX_MAX_PART = 512 * 1024
XLSX_MAX_MEMBERS = 1_000
# XLS (BIFF, read by calamine): the workbook is read whole into memory, so its file is kept small;
# a school's list of a thousand students is well under a megabyte.
XLS_MAX_BYTES = 8 * 1024 * 1024

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0"  # the old binary .xls (and .doc)
_SCANNED = re.compile(r"(^|/)(worksheets/[^/]+|sharedStrings[^/]*)\.xml$", re.IGNORECASE)


class TableError(ValueError):
    """The file cannot be read as a table at all (Russian message)."""


def norm_header(text: Any) -> str:
    return " ".join(str(text or "").strip().lower().replace("ё", "е").replace("_", " ").split())


def _mib(size: int) -> str:
    mib = size / 1024 / 1024
    return f"{mib:.0f} МБ" if mib >= 10 else f"{mib:.1f} МБ".replace(".", ",")


def read_table(data: bytes, filename: str) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    """(headers, iterator of (row number, cells)) of a CSV or XLSX file; empty rows are skipped.

    The iterator raises TableError too (a problem found further down the file, too many rows).
    The content decides where it can (an Excel workbook named .csv is read as one).
    """
    if len(data) > MAX_FILE_BYTES:
        raise TableError(f"файл больше {_mib(MAX_FILE_BYTES)}: разделите его на части")
    suffix = Path(filename).suffix.lower()
    if data.startswith(_OLE):
        raise TableError("это файл старого формата Excel (XLS): сохраните его как «Книга Excel (XLSX)» или CSV")
    if data.startswith(_ZIP):
        return _xlsx(data)
    if suffix in (".xlsx", ".xlsm"):
        raise TableError(f"файл «{Path(filename).name[:100]}» назван {suffix}, но это не книга Excel: "
                         "откройте его в Excel и сохраните как XLSX или CSV")
    if suffix in (".csv", ".txt", ""):
        return _csv(data)
    raise TableError(f"формат файла {suffix[:20]} не поддерживается: нужен CSV или XLSX")


def read_grid(data: bytes, filename: str) -> Iterator[tuple[int, list[Any]]]:
    """Every filled row of a CSV, XLSX or XLS file from its first, as (row number, cells): for files
    whose header is not in row 1 (a title above it). Trailing empty cells are cut; the same size
    and safety checks as `read_table`."""
    if len(data) > MAX_FILE_BYTES:
        raise TableError(f"файл больше {_mib(MAX_FILE_BYTES)}: разделите его на части")
    suffix = Path(filename).suffix.lower()
    if data.startswith(_OLE):
        return _limited(_xls(data))
    if data.startswith(_ZIP):
        return _limited(_xlsx_grid(data))
    if suffix in (".xlsx", ".xlsm", ".xls"):
        raise TableError(f"файл «{Path(filename).name[:100]}» назван {suffix}, но это не книга Excel: "
                         "откройте его в Excel и сохраните как XLSX или CSV")
    if suffix in (".csv", ".txt", ""):
        headers, body = _csv(data)
        return _limited(_chain([(1, list(headers))], body))
    raise TableError(f"формат файла {suffix[:20]} не поддерживается: нужен CSV, XLSX или XLS")


def _chain(first: Iterable[tuple[int, list[Any]]], rest: Iterable[tuple[int, list[Any]]]
           ) -> Iterator[tuple[int, list[Any]]]:
    yield from first
    yield from rest


def _trimmed(cells: Sequence[Any]) -> list[Any]:
    out = list(cells)
    while out and (out[-1] is None or out[-1] == ""):
        out.pop()
    return out


def _limited(rows: Iterable[tuple[int, list[Any]]]) -> Iterator[tuple[int, list[Any]]]:
    """The filled rows, at most MAX_ROWS of them, each cut to MAX_COLUMNS cells."""
    count = 0
    for number, cells in rows:
        if number > EXCEL_MAX_ROW:
            raise TableError(f"в листе больше {EXCEL_MAX_ROW} строк: так не бывает в файле Excel")
        if any(c is not None and (not isinstance(c, str) or c.strip()) for c in cells):
            count += 1
            if count > MAX_ROWS:
                raise TableError(f"больше {MAX_ROWS} строк: разделите файл")
            yield number, cells


# ---- CSV ----

def _decode(data: bytes) -> str:
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encodings: tuple[str, ...] = ("utf-16",)
    elif data.startswith(codecs.BOM_UTF8):
        encodings = ("utf-8-sig",)
    else:
        encodings = ("utf-8", "cp1251")  # Russian Excel saves CSV in cp1251
    for encoding in encodings:
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError as exc:
            problem = exc
    else:
        raise TableError(f"файл не в кодировке UTF-8, UTF-16 или Windows-1251 (непонятный байт в позиции "
                         f"{problem.start}): сохраните его в Excel как «CSV UTF-8» или как XLSX") from None
    if text.count("\x00") > len(text) // 10:  # UTF-16 without its BOM, or not text at all
        raise TableError("файл не похож на текст CSV (UTF-16 без метки BOM или двоичный файл): "
                         "сохраните его в Excel как «CSV UTF-8» или как XLSX")
    return text


def _csv(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    text = _decode(data)
    first = text.split("\n", 1)[0]
    if not any(d in first for d in ";,\t"):  # a title row above the table: judge by the lines below it
        first = "\n".join(text.split("\n", 10)[:10])
    delimiter = max(";,\t", key=first.count)

    def lines() -> Iterator[str]:
        # Checked before the csv module splits a line: 16 MB of separators would be millions of cells.
        for line in io.StringIO(text, newline=""):
            if line.count(delimiter) >= MAX_COLUMNS:
                raise TableError(f"в строке больше {MAX_COLUMNS} столбцов: это не таблица школы")
            yield line

    rows = csv.reader(lines(), delimiter=delimiter)

    def problem(exc: csv.Error) -> TableError:
        if "field larger than field limit" in str(exc):
            return TableError(f"строка {rows.line_num}: ячейка длиннее {MAX_CELL} символов")
        return TableError(f"строка {rows.line_num}: файл не читается как CSV ({exc})")

    try:
        headers = next(rows)
    except StopIteration:
        raise TableError("файл пуст") from None
    except csv.Error as exc:
        raise problem(exc) from None

    def body() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from _limited((number, list(cells)) for number, cells in enumerate(rows, 2))
        except csv.Error as exc:
            raise problem(exc) from None

    return headers, body()


# ---- XLSX ----

def _check_archive(book: zipfile.ZipFile) -> None:
    members = book.infolist()
    if len(members) > XLSX_MAX_MEMBERS:
        raise TableError(f"в книге Excel больше {XLSX_MAX_MEMBERS} частей: файл повреждён или подделан")
    total = 0
    for member in members:
        name = member.filename
        limit = (XLSX_MAX_STRINGS if "sharedstrings" in name.lower() else XLSX_MAX_SHEET if _SCANNED.search(name)
                 else XLSX_MAX_PART if name.lower().endswith((".xml", ".rels")) else XLSX_MAX_TOTAL)
        total += member.file_size
        if member.file_size > limit or total > XLSX_MAX_TOTAL:
            raise TableError(f"книга Excel распаковывается в слишком большой объём (часть {name[:100]}: "
                             f"{_mib(member.file_size)}, допустимо {_mib(min(limit, XLSX_MAX_TOTAL))}): "
                             "файл повреждён или подделан, сохраните данные заново")
    for member in members:
        if _SCANNED.search(member.filename):
            with book.open(member) as part:
                _scan(part, member.filename)


def _scan(part: IO[bytes], name: str) -> None:
    """Stream an XML part through expat: no DTD (entity tricks), no text longer than MAX_CELL."""
    parser = pyexpat.ParserCreate()
    parser.buffer_text = True
    length = 0

    def start(_tag: str, _attrs: Any) -> None:
        nonlocal length
        length = 0  # texts are counted per element; the whitespace after one counts with it, to be safe

    def text(data: str) -> None:
        nonlocal length
        length += len(data)
        if length > MAX_CELL:
            raise TableError(f"в книге Excel есть ячейка длиннее {MAX_CELL} символов ({name[:100]}): "
                             "так длинно не пишут ни одно поле; проверьте файл")

    def doctype(*_args: Any) -> None:
        raise TableError(f"в книге Excel есть объявление DTD ({name[:100]}): файл подделан")

    parser.StartElementHandler = start
    parser.CharacterDataHandler = text
    parser.StartDoctypeDeclHandler = doctype
    try:
        while chunk := part.read(1 << 16):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except pyexpat.ExpatError as exc:
        raise TableError(f"книга Excel повреждена ({name[:100]}: {exc})") from None


def _broken(exc: Exception) -> TableError:
    return TableError(f"файл не читается как книга Excel (XLSX): {type(exc).__name__}: {str(exc)[:200]}")


def _xlsx(data: bytes) -> tuple[list[str], Iterator[tuple[int, list[Any]]]]:
    from openpyxl import load_workbook

    # A hostile or broken archive can make zipfile, zlib, expat or openpyxl raise nearly anything
    # (BadZipFile, zlib.error, KeyError, ParseError, IndexError, ...): all of it means "not a
    # readable workbook". Warnings about unsupported Excel features are no concern of an import.
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                _check_archive(archive)
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            sheet.reset_dimensions()  # a forged <dimension> must not make openpyxl pad a million rows
            first = next(sheet.iter_rows(max_row=1, max_col=MAX_COLUMNS, values_only=True), ())
    except TableError:
        raise
    except Exception as exc:
        raise _broken(exc) from None
    headers = [str(h).strip() if h is not None else "" for h in first]
    while headers and not headers[-1]:
        headers.pop()
    if not headers:
        book.close()
        raise TableError("в первой строке листа нет заголовков столбцов")

    def cells() -> Iterator[tuple[int, list[Any]]]:
        rows = enumerate(sheet.iter_rows(min_row=2, max_col=len(headers), values_only=True), 2)
        while True:
            with warnings.catch_warnings():  # around each step: a suspended generator must not hold it
                warnings.simplefilter("ignore")
                item = next(rows, None)
            if item is None:
                return
            yield item[0], list(item[1])

    def body() -> Iterator[tuple[int, list[Any]]]:
        try:
            yield from _limited(cells())
        except TableError:
            raise
        except Exception as exc:
            raise _broken(exc) from None
        finally:
            book.close()

    return headers, body()


def _xlsx_grid(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """Every row of the first sheet from row 1, at most MAX_COLUMNS cells each."""
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                _check_archive(archive)
            book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheet = book.worksheets[0]
            sheet.reset_dimensions()
            rows = enumerate(sheet.iter_rows(max_col=MAX_COLUMNS, values_only=True), 1)
    except TableError:
        raise
    except Exception as exc:
        raise _broken(exc) from None
    try:
        while True:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                item = next(rows, None)
            if item is None:
                return
            yield item[0], _trimmed(item[1])
    except TableError:
        raise
    except Exception as exc:
        raise _broken(exc) from None
    finally:
        book.close()


# ---- XLS ----

# calamine builds a sheet's whole rectangle in memory before anything can look at it: a 6 KB file with
# one cell at the last row and column takes 1.2 GB and 5 s. So it runs in a child process that limits
# its own address space and time, and hands back the rows (pickled by our code: plain values only).
XLS_CHILD_MEMORY = 512 * 1024 * 1024
XLS_CHILD_SECONDS = 30
_XLS_CHILD = """
import pickle, resource, sys
resource.setrlimit(resource.RLIMIT_AS, ({memory}, {memory}))
from python_calamine import CalamineWorkbook
try:
    sheet = CalamineWorkbook.from_filelike(sys.stdin.buffer).get_sheet_by_index(0)
    rows = [[c for c in row[:{columns}]] for row in sheet.to_python(skip_empty_area=False)]
    out = ("ok", rows)
except MemoryError:
    out = ("big", "")
except Exception as exc:
    out = ("bad", f"{{type(exc).__name__}}: {{str(exc)[:200]}}")
sys.stdout.buffer.write(pickle.dumps(out))
"""


def _xls(data: bytes) -> Iterator[tuple[int, list[Any]]]:
    """The first sheet of an old binary workbook, read by calamine (Rust: no code in the file runs)."""
    import pickle
    import subprocess
    import sys

    if len(data) > XLS_MAX_BYTES:
        raise TableError(f"файл XLS больше {_mib(XLS_MAX_BYTES)}: сохраните его как XLSX или CSV")
    too_big = TableError("лист XLS слишком велик для школьного списка (или файл повреждён): "
                         "сохраните его как XLSX или CSV")
    script = _XLS_CHILD.format(memory=XLS_CHILD_MEMORY, columns=MAX_COLUMNS)
    try:
        child = subprocess.run([sys.executable, "-I", "-c", script], input=data, capture_output=True,
                               timeout=XLS_CHILD_SECONDS, check=False)
        status, rows = pickle.loads(child.stdout)  # written by the script above, never by the file
    except subprocess.TimeoutExpired:
        raise too_big from None
    except Exception:  # the child died (out of memory in Rust aborts it) and wrote nothing whole
        raise too_big from None
    if status == "big":
        raise too_big
    if status != "ok":
        raise TableError(f"файл не читается как книга Excel (XLS): {rows}")
    for number, cells in enumerate(rows, 1):
        trimmed = _trimmed(cells)
        for cell in trimmed:
            if isinstance(cell, str) and len(cell) > MAX_CELL:
                raise TableError(f"строка {number}: ячейка длиннее {MAX_CELL} символов")
        yield number, trimmed


# ---- writing ----

_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def excel_safe(value: Any) -> Any:
    """A cell that Excel or LibreOffice shows, never runs: text starting like a formula (=, +, -, @,
    tab, CR) gets a leading apostrophe, as OWASP advises against CSV injection. «-48,58 ₽» becomes
    «'-48,58 ₽»: still readable, never computed. Numbers stay numbers."""
    if isinstance(value, str) and value.startswith(_FORMULA):
        return "'" + value
    return value


def csv_text(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> str:
    """A table as CSV for Russian Excel (semicolons, CRLF), every cell through `excel_safe`."""
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([excel_safe(c) for c in header])
    writer.writerows([excel_safe(c) for c in row] for row in rows)
    return out.getvalue()
