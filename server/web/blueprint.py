"""The office blueprint itself (routes live in the modules that import it)."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("office", __name__, template_folder="templates", static_folder="static",
               static_url_path="/office/static")
