"""The registers the law asks for (issue 12), computed from history: each kind is a module with one
`build` (the data) and its formats; `KINDS` maps the CLI's and the API's names to them."""

from __future__ import annotations

from types import ModuleType

KINDS: dict[str, ModuleType] = {}

# --- the request helper's kinds: next month's request (приложение 4), lists per category (приложение 5), the
# canteen schedule (приложение 6). Each module: build, to_json, to_csv, to_xlsx, to_html, to_pdf, file_name,
# default_month, options (its own query arguments).
from server.reports import lists, request, schedule  # noqa: E402

KINDS |= {"request": request, "lists": lists, "schedule": schedule}
