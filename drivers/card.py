"""Card reads and card-number formats: the one place that knows how a card number is written.

A reader yields a `CardRead` whose `uid` is the card's canonical id, one of:

- ``EM:55007EE424``  EM-Marine 125 kHz, the full 40-bit id (IronLogic text, RDM6300/ID-12 frames);
- ``D10:0008315940`` the 10-digit decimal that many readers print: the low 32 bits of the id;
- ``W26:126,58404``  the Wiegand-26 pair ``facility,number`` printed on fobs: the low 24 bits;
- ``UID:04A1B2C3``   an ISO 14443 Type A UID or a FeliCa IDm (NFC), in upper-case hex.

Conversions downwards lose bits (EM -> D10 -> W26), so each reader's fullest form is kept;
`low_bits` says which bits a form carries. Which registered card a read in another form matches is
the engine's rule, not the reader's: `pos.cards`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime


class CardIdError(ValueError):
    """A card number that is not in any known format (garbled read, typo)."""


@dataclass(frozen=True, slots=True)
class CardRead:
    """One presentation of a card at a reader."""

    uid: str
    format: str = "text"
    raw: bytes = b""
    reader_id: str = "manual"
    at: datetime = field(default_factory=lambda: datetime.now(UTC))


_EM = re.compile(r"[0-9A-F]{10}")
_UID = re.compile(r"(?:[0-9A-F]{2}){4,10}")
_W26 = re.compile(r"(\d{1,3})\s*,\s*(\d{1,5})")
_D10 = re.compile(r"\d{10}")


def em_marine(hex10: str) -> str:
    """Canonical id of a 40-bit EM-Marine number given as 10 hex digits."""
    value = hex10.strip().upper()
    if not _EM.fullmatch(value):
        raise CardIdError(f"EM-Marine id must be 10 hex digits, got {hex10!r}")
    return f"EM:{value}"


def decimal10(digits: str) -> str:
    """Canonical id of a 10-digit decimal card number (the low 32 bits)."""
    value = digits.strip()
    if not _D10.fullmatch(value) or int(value) >= 1 << 32:
        raise CardIdError(f"10-digit card number must be 0..4294967295, got {digits!r}")
    return f"D10:{value}"


def wiegand26(facility: int, number: int) -> str:
    """Canonical id of a Wiegand-26 ``facility,number`` pair."""
    if not (0 <= facility <= 255 and 0 <= number <= 65535):
        raise CardIdError(f"Wiegand-26 needs facility 0..255 and number 0..65535, got {facility},{number}")
    return f"W26:{facility:03d},{number:05d}"


def nfc_uid(uid: bytes | str) -> str:
    """Canonical id of an NFC tag identifier (ISO 14443A UID, FeliCa IDm)."""
    value = uid.hex().upper() if isinstance(uid, bytes) else uid.strip().upper().replace(":", "")
    if not _UID.fullmatch(value):
        raise CardIdError(f"NFC UID must be 4 to 10 bytes of hex, got {uid!r}")
    return f"UID:{value}"


def parse_card_id(text: str) -> str:
    """Canonical id from a number as a person types it or a fob shows it.

    Accepts a canonical id as is, ``126,58404`` (W26), 10 decimal digits (D10), 10 hex digits
    (EM-Marine) and 8/14/20 hex digits (NFC UID). 10 characters that are all digits read as D10.
    """
    value = text.strip().upper()
    prefix, _, body = value.partition(":")
    if body:
        builders = {"EM": em_marine, "D10": decimal10, "UID": nfc_uid}
        if prefix in builders:
            return builders[prefix](body)
        if prefix == "W26" and (m := _W26.fullmatch(body)):
            return wiegand26(int(m[1]), int(m[2]))
        raise CardIdError(f"unknown card id {text!r}")
    if m := _W26.fullmatch(value):
        return wiegand26(int(m[1]), int(m[2]))
    if _D10.fullmatch(value):
        return decimal10(value)
    if _EM.fullmatch(value):
        return em_marine(value)
    if _UID.fullmatch(value):
        return nfc_uid(value)
    raise CardIdError(f"unknown card number format: {text!r}")


def low_bits(uid: str) -> tuple[int | None, int | None]:
    """The low 32 and 24 bits a canonical id carries (None where its form has fewer bits).

    EM-Marine has both, D10 both, W26 only 24; an NFC UID is not a number of this family: neither.
    """
    prefix, _, body = uid.partition(":")
    if prefix == "EM":
        value = int(body, 16)
        return value & 0xFFFFFFFF, value & 0xFFFFFF
    if prefix == "D10":
        value = int(body)
        return value, value & 0xFFFFFF
    if prefix == "W26":
        facility, number = body.split(",")
        return None, (int(facility) << 16) | int(number)
    return None, None


def to_decimal10(uid: str) -> str | None:
    """The 10-digit decimal form of an EM/D10 id, if it has 32 bits."""
    key32, _ = low_bits(uid)
    return None if key32 is None else f"{key32:010d}"


def to_wiegand26(uid: str) -> str | None:
    """The ``facility,number`` form of an EM/D10/W26 id."""
    _, key24 = low_bits(uid)
    return None if key24 is None else f"{key24 >> 16:03d},{key24 & 0xFFFF:05d}"
