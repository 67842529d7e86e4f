"""The school's serving schedule as one value: which class eats which meal at which break, and when.

A class's serving window for a meal is its break widened by the school's tolerance (`Tolerance`:
minutes early and late). The counter asks it which meal a student is here for and whether it is in
time; the read models (`pos.queries.current_break`) ask it which break is on. Both read the same
`Schedule`, loaded once by the counter's reference data (`pos.reference`) and reloaded with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cached_property

from pos.domain import Meal

_ANY_DAY = datetime(2000, 1, 3)  # to shift a break's clock times by minutes


DEFAULT_WINDOW_MIN = 10  # minutes of serving before a break starts and after it ends


@dataclass(frozen=True)
class Tolerance:
    """How long before a break starts and after it ends its meal is still served in time."""

    early_min: int = DEFAULT_WINDOW_MIN
    late_min: int = DEFAULT_WINDOW_MIN


def _minutes(t: time) -> int:
    return t.hour * 60 + t.minute


@dataclass(frozen=True)
class Window:
    """A serving window in local clock time."""

    starts: time
    ends: time

    @classmethod
    def around(cls, starts: time, ends: time, tolerance: Tolerance) -> Window:
        """A break's window: from `early_min` before it starts to `late_min` after it ends."""
        return cls((datetime.combine(_ANY_DAY, starts) - timedelta(minutes=tolerance.early_min)).time(),
                   (datetime.combine(_ANY_DAY, ends) + timedelta(minutes=tolerance.late_min)).time())

    def holds(self, t: time) -> bool:
        return self.starts <= t <= self.ends

    def distance(self, t: time) -> int:
        """Minutes from `t` to the window (0 inside it)."""
        now = _minutes(t)
        return max(_minutes(self.starts) - now, now - _minutes(self.ends), 0)


@dataclass(frozen=True)
class Slot:
    """One class's meal at one break."""

    class_id: str
    class_name: str
    meal: Meal
    shift: int
    number: int  # the break's number in its shift
    starts: str  # the break itself, local "08:40"
    ends: str
    window: Window

    @property
    def label(self) -> str:
        """Where staff find this meal in the timetable, as the refusal names it."""
        return f"на {self.number}-й перемене {'I' * self.shift} смены {self.starts}–{self.ends}"


@dataclass(frozen=True)
class Schedule:
    """Every slot of the school, in shift, break start and class order."""

    slots: tuple[Slot, ...] = ()

    @cached_property
    def _by_class(self) -> dict[str, list[Slot]]:  # a tap asks twice: one dict look-up, not a scan
        by_class: dict[str, list[Slot]] = {}
        for slot in self.slots:
            by_class.setdefault(slot.class_id, []).append(slot)
        return by_class

    def of_class(self, class_id: str | None) -> list[Slot]:
        return self._by_class.get(class_id, []) if class_id else []

    def slot(self, class_id: str | None, meal: Meal) -> Slot | None:
        return next((s for s in self.of_class(class_id) if s.meal is meal), None)

    def meal_at(self, class_id: str | None, t: time) -> Meal | None:
        """The class's meal whose window holds `t`, else the nearest one; None for a class without slots."""
        slots = self.of_class(class_id)
        if not slots:
            return None
        inside = next((s for s in slots if s.window.holds(t)), None)
        return (inside or min(slots, key=lambda s: s.window.distance(t))).meal
