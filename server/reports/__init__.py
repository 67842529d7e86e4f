"""The registers the law asks for (issue 12), computed from history: each kind is a module with one
`build` (the data) and its formats; `KINDS` maps the CLI's and the API's names to them."""

from __future__ import annotations

from types import ModuleType

from server.reports import milk, monthly, tabel

# --- kinds (tabel helper): табель, milk, monthly report -------------------------------------------------
KINDS: dict[str, ModuleType] = {"tabel": tabel, "milk": milk, "monthly": monthly}
