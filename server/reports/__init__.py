"""The registers the law asks for (issue 12), computed from history: each kind is a module with one
`build` (the data) and its formats; `KINDS` maps the CLI's and the API's names to them."""

from __future__ import annotations

from types import ModuleType

from server.reports import lists, milk, monthly, request, schedule, tabel

# табель, milk, monthly report (server.reports.common: one read of the month); next month's request
# (приложение 4), lists per category (приложение 5), the canteen schedule (приложение 6): these three also have
# `default_month` and `options` (their own query arguments) and their own page (server.web.request_pages).
KINDS: dict[str, ModuleType] = {"tabel": tabel, "milk": milk, "monthly": monthly, "request": request, "lists": lists,
                                "schedule": schedule}
