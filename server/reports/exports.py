"""Registers going out: one door (`export`) that builds a register of any kind in a format and records
the export (`ReportExport`, with the register's figures), so the register's page can show what changed
since the last export — a приказ entered late, a parcel added, a late reversal — cell by cell.

A kind module (`server.reports.KINDS`) has `build(conn, school_id, month, *, class_id)`, `to_json`,
`to_csv`, `to_xlsx`; optionally `to_html` (the printable page; PDF is made from it), `figures` (the flat
cells an export records; else the JSON), `file_name`, `TITLE` and `CLASS_REQUIRED`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from types import ModuleType
from typing import Any

from sqlalchemy import Connection, insert, select

from server.models import ReportExport
from server.office.changes import OfficeError
from server.reports.common import FORMATS, XLSX_TYPE, ReportError, month_key, safe_name

MIMETYPES = {"json": "application/json", "csv": "text/csv; charset=utf-8", "xlsx": XLSX_TYPE,
             "pdf": "application/pdf", "html": "text/html; charset=utf-8"}
DIFF_MAX = 200  # changes listed; the rest are counted


@dataclass(frozen=True)
class Export:
    id: int
    kind: str
    month: str
    class_id: str
    format: str
    submitted: bool
    figures: dict[str, Any]
    made_by: str
    made_at: datetime  # naive UTC


@dataclass(frozen=True)
class Change:
    key: str
    before: Any  # None: not there then
    after: Any  # None: not there now

    @property
    def text(self) -> str:
        def show(v: Any) -> str:
            return "—" if v is None else str(v)
        money = self.key.endswith("₽")
        before = _rub(self.before) if money and isinstance(self.before, int) else show(self.before)
        after = _rub(self.after) if money and isinstance(self.after, int) else show(self.after)
        return f"{self.key}: было «{before}», стало «{after}»"


def _rub(kopecks: int) -> str:
    from pos.money import format_rub

    return format_rub(kopecks)


def kind_module(kind: str) -> ModuleType:
    from server.reports import KINDS

    found = KINDS.get(kind)
    if found is None:
        raise ReportError(f"вид отчёта: {', '.join(KINDS)}, а не «{kind[:40]}»")
    return found


def title_of(kind: str) -> str:
    return str(getattr(kind_module(kind), "TITLE", kind))


def figures_of(module: ModuleType, data: Any) -> dict[str, Any]:
    if hasattr(module, "figures"):
        return dict(module.figures(data))
    return _flatten(module.to_json(data))


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for k, v in value.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(value, list):
        out = {}
        for i, v in enumerate(value):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: value}


def record_export(conn: Connection, actor: str, school_id: str, kind: str, month: date | str,
                  class_id: str | None, fmt: str, figures: dict[str, Any], submitted: bool = False,
                  now: datetime | None = None) -> int:
    """Record that a register went out (or was submitted), with its figures; returns the row's id."""
    at = (now or datetime.now(UTC)).astimezone(UTC).replace(tzinfo=None)
    key = month_key(month) if isinstance(month, date) else month
    result = conn.execute(insert(ReportExport).values(
        school_id=school_id, kind=kind[:16], month=key, class_id=(class_id or "")[:64], format=fmt[:8],
        submitted=submitted, figures=json.dumps(figures, ensure_ascii=False, sort_keys=True, default=str),
        made_by=actor[:64], made_at=at).returning(ReportExport.id))
    return int(result.scalar_one())


def last_export(conn: Connection, school_id: str, kind: str, month: date | str, class_id: str | None = None
                ) -> Export | None:
    """The latest export of the register (of the class), or None."""
    key = month_key(month) if isinstance(month, date) else month
    row = conn.execute(select(ReportExport).where(
        ReportExport.school_id == school_id, ReportExport.kind == kind, ReportExport.month == key,
        ReportExport.class_id == (class_id or "")).order_by(ReportExport.id.desc()).limit(1)).first()
    if row is None:
        return None
    return Export(row.id, row.kind, row.month, row.class_id, row.format, row.submitted, json.loads(row.figures),
                  row.made_by, row.made_at)


def diff(before: dict[str, Any], after: dict[str, Any]) -> list[Change]:
    """What changed between two sets of figures: cells and totals added, gone or with another value."""
    return [Change(k, before.get(k), after.get(k)) for k in sorted(set(before) | set(after))
            if before.get(k) != after.get(k)]


@dataclass(frozen=True)
class Since:
    """What changed in a register since its last export."""

    export: Export
    changes: tuple[Change, ...]

    def summary(self, tz: Any = None) -> str:
        at = self.export.made_at.replace(tzinfo=UTC)
        when = (at.astimezone(tz) if tz else at).strftime("%d.%m.%Y %H:%M")
        head = f"С последней выгрузки ({when}, {self.export.made_by})"
        if not self.changes:
            return f"{head} ничего не изменилось."
        shown = "; ".join(c.text for c in self.changes[:DIFF_MAX])
        more = f" и ещё {len(self.changes) - DIFF_MAX}" if len(self.changes) > DIFF_MAX else ""
        return f"{head} изменилось: {shown}{more}."


def since_last(conn: Connection, school_id: str, kind: str, month: date, class_id: str | None, data: Any
               ) -> Since | None:
    found = last_export(conn, school_id, kind, month, class_id)
    if found is None:
        return None
    return Since(found, tuple(diff(found.figures, figures_of(kind_module(kind), data))))


@dataclass(frozen=True)
class Output:
    data: bytes
    mimetype: str
    filename: str
    export_id: int | None


def check_format(fmt: str, allowed: tuple[str, ...] = FORMATS) -> str:
    if fmt not in allowed:
        raise ReportError(f"формат: {', '.join(allowed)}, а не «{fmt[:20]}»")
    return fmt


def build(conn: Connection, school_id: str, kind: str, month: date, class_id: str | None) -> tuple[ModuleType, Any]:
    module = kind_module(kind)
    if getattr(module, "CLASS_REQUIRED", False) and not class_id:
        raise ReportError(f"«{title_of(kind)}» составляется по классу: укажите класс")
    try:
        return module, module.build(conn, school_id, month, class_id=class_id or None)
    except OfficeError as exc:  # a kind that speaks the office's errors (no policy for the year, no class…)
        raise ReportError(str(exc)) from None


def render(module: ModuleType, data: Any, fmt: str) -> bytes:
    if fmt == "json":
        return (json.dumps(module.to_json(data), ensure_ascii=False, indent=1, default=str) + "\n").encode("utf-8")
    if fmt == "csv":
        return str(module.to_csv(data)).encode("utf-8")
    if fmt == "xlsx":
        return bytes(module.to_xlsx(data))
    if not hasattr(module, "to_html"):
        raise ReportError("для этого отчёта PDF не делается: выберите xlsx, csv или json")
    html = str(module.to_html(data))
    if fmt == "html":
        return html.encode("utf-8")
    from server.reports.pdf import to_pdf

    return to_pdf(html)


def file_name(module: ModuleType, data: Any, kind: str, school_id: str, month: date, class_id: str | None,
              fmt: str) -> str:
    if hasattr(module, "file_name"):
        return str(module.file_name(data, fmt))
    part = f"-{safe_name(class_id)}" if class_id else ""
    return f"{kind}-{safe_name(school_id)}{part}-{month_key(month)}.{fmt}"


def export(conn: Connection, actor: str, school_id: str, kind: str, month: date, class_id: str | None, fmt: str,
           *, submitted: bool = False, record: bool = True) -> Output:
    """Build the register, write it in the format and record the export (in the caller's transaction)."""
    check_format(fmt)
    module, data = build(conn, school_id, kind, month, class_id)
    body = render(module, data, fmt)
    export_id = record_export(conn, actor, school_id, kind, month, class_id, fmt, figures_of(module, data),
                              submitted) if record else None
    return Output(body, MIMETYPES[fmt], file_name(module, data, kind, school_id, month, class_id, fmt), export_id)
