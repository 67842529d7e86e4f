"""How a verdict reads on screen: tone (colour), headline, lines. Pure presentation of `pos` verdicts.

The engine decides (`pos.decide`); this module only words and colours what it decided, so the
panel, the history list and the tests share one spelling.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from pos.decide import Outcome, Reason, Verdict
from pos.domain import Meal
from pos.money import format_rub

SERVE, WARN, REFUSE, UNDO = "serve", "warn", "refuse", "undo"

SHIFTS = {1: "I", 2: "II", 3: "III"}


@dataclass(frozen=True)
class VerdictView:
    tone: str  # serve | warn | refuse | undo: the panel's colour
    headline: str  # the big word
    who: str  # "Иванов Иван · 5а" or "" for an unknown card
    meal: str  # "Завтрак"
    message: str  # the engine's Russian message
    money: str  # "Списано 75,00 ₽ · остаток 125,00 ₽" / "Бесплатно"
    warnings: tuple[str, ...]
    diet: str  # the diet / allergy note: shown so that no one can miss it


def tone_of(verdict: Verdict) -> str:
    if verdict.reason is Reason.REVERSAL:
        return UNDO
    if not verdict.served:
        return REFUSE
    return WARN if verdict.warnings else SERVE


def money_line(verdict: Verdict) -> str:
    if verdict.reason is Reason.REVERSAL:
        if verdict.paid_kopecks:
            return f"Возвращено на счёт {format_rub(-verdict.paid_kopecks)}"
        return ""
    if not verdict.served:
        return ""
    if not verdict.paid_kopecks:
        return ""  # free: the message already says so
    word = "Доплата" if verdict.outcome is Outcome.SERVE_FREE else "Списано"  # short: fits an 80-column panel
    parts = [f"{word} {format_rub(verdict.paid_kopecks)}"]
    if verdict.balance_after_kopecks is not None:
        parts.append(f"остаток {format_rub(verdict.balance_after_kopecks)}")
    return " · ".join(parts)


def view_of(verdict: Verdict) -> VerdictView:
    student = verdict.student
    tone = tone_of(verdict)
    return VerdictView(
        tone=tone,
        headline="ОТМЕНЕНО" if tone == UNDO else verdict.headline,
        who=f"{student.full_name} · {student.class_name}" if student else "",
        meal=verdict.meal.ru.capitalize() if verdict.meal else "",
        message=verdict.message,
        money=money_line(verdict),
        warnings=verdict.warnings,
        diet=student.diet_note.strip() if student else "",
    )


@dataclass(frozen=True)
class HistoryRow:
    """One row of the list under the panel, and the event it shows (to mark it if it is undone)."""

    text: str
    event_id: str | None
    undone: bool = False

    def struck(self) -> HistoryRow:
        return HistoryRow(f"{self.text} · ВЫДАЧА ОТМЕНЕНА", self.event_id, undone=True)


def history_line(verdict: Verdict, at: datetime) -> HistoryRow:
    """One line of the list under the panel: time, word, who, what."""
    student = verdict.student
    who = f"{student.full_name} ({student.class_name})" if student else (verdict.card_uid or "—")
    word = "ОТМЕНА" if verdict.reason is Reason.REVERSAL else verdict.headline
    return HistoryRow(f"{at:%H:%M:%S}  {word:<6}  {who} — {verdict.message}",
                      verdict.event_id if verdict.served else None)


def meal_title(meal: Meal) -> str:
    return meal.ru.capitalize()


def break_label(shift: int, number: int, starts: str, ends: str) -> str:
    return f"{SHIFTS.get(shift, str(shift))} смена, {number}-я перемена {starts}–{ends}"
