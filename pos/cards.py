"""Which registered card a read matches: the engine's rule, used by the terminal, the sync and the server.

Readers give a card's fullest form (`drivers.card`), but a card may be registered in a weaker one: a
fob's printed Wiegand-26 number, the 10-digit decimal another reader prints. Two ids are compared on
the widest form both have: 32 bits between EM and D10, 24 bits with W26, and exactly between two ids
of the same width (a different EM id is a different card). Two cards may share a weak key; such a
read is ambiguous, never guessed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from drivers.card import low_bits


class CardStatus(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"
    AMBIGUOUS = "ambiguous"
    BLOCKED = "blocked"


def match_keys(uid: str) -> tuple[int | None, int | None]:
    """The (32-bit, 24-bit) keys a canonical id is matched on across formats (stored on each card).

    NFC UIDs have none: they are matched exactly.
    """
    return low_bits(uid)


def weaker_matches(uid: str) -> list[tuple[str, int, frozenset[str]]]:
    """Where to look when no card is registered under exactly this id, in order.

    Each item is (key column, value, the registered forms it may match): an EM read matches a card
    registered by its 10-digit number on 32 bits and one registered by its fob's W26 number on 24
    bits, but never another EM card; a D10 read matches an EM card on 32 bits and a W26 card on 24; a
    W26 read matches EM and D10 cards on 24 bits.
    """
    prefix = uid.partition(":")[0]
    key32, key24 = match_keys(uid)
    tries: list[tuple[str, int, frozenset[str]]] = []
    if key32 is not None:
        tries.append(("key32", key32, frozenset({"D10"} if prefix == "EM" else {"EM"})))
    if key24 is not None:
        tries.append(("key24", key24, frozenset({"W26"} if prefix in {"EM", "D10"} else {"EM", "D10"})))
    return tries


def form(uid: str) -> str:
    """The format prefix of a canonical id: ``EM``, ``D10``, ``W26`` or ``UID``."""
    return uid.partition(":")[0]


@dataclass(frozen=True)
class Registered:
    """A card as the store holds it, for matching."""

    student_id: str
    blocked: bool
    blocked_reason: str
    uid: str


@dataclass(frozen=True)
class CardMatch:
    status: CardStatus
    student_id: str | None = None
    note: str = ""


def judge(cards: Sequence[Registered]) -> CardMatch:
    """What the cards a read matched mean: none is unknown, two students' is ambiguous, all blocked is blocked."""
    if not cards:
        return CardMatch(CardStatus.UNKNOWN)
    if len({c.student_id for c in cards}) > 1:
        return CardMatch(CardStatus.AMBIGUOUS)
    active = [c for c in cards if not c.blocked]
    if not active:
        return CardMatch(CardStatus.BLOCKED, cards[0].student_id, cards[0].blocked_reason or "")
    return CardMatch(CardStatus.OK, active[0].student_id)
