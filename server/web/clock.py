"""The pages' clock: the real time, unless the app's config sets `CANTEEN_NOW` (an aware ISO time) — what
browser tests and a rehearsal of the deadline use. Services never read it: they take `now` as an argument."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import current_app


def now() -> datetime:
    """Now, aware."""
    fixed = current_app.config.get("CANTEEN_NOW")
    if isinstance(fixed, datetime):
        return fixed
    return datetime.fromisoformat(fixed) if fixed else datetime.now(UTC)
