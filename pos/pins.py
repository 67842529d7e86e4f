"""Staff PINs: the rule a PIN must meet, its salted hash for storing, and the check against that hash.

A PIN never travels or rests in clear: the office stores `hash_pin(pin)`, pulls carry the hash, and
the terminal checks what was typed with `pin_matches`. The hash is PBKDF2-HMAC-SHA256 written as
``pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>`` (the standard library, no new dependency).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

PIN_MIN, PIN_MAX = 4, 6
ITERATIONS = 100_000
SCHEME = "pbkdf2_sha256"
PIN_HASH_MAX = 200  # characters of a stored hash: the format above with room for a longer salt


def pin_problem(pin: str) -> str | None:
    """Why `pin` cannot be a PIN (Russian, for the office), or None when it can."""
    if not (pin.isascii() and pin.isdigit() and PIN_MIN <= len(pin) <= PIN_MAX):
        return f"ПИН-код — от {PIN_MIN} до {PIN_MAX} цифр"
    return None


def _derive(pin: str, salt: bytes, iterations: int) -> bytes:
    return hashlib.pbkdf2_hmac("sha256", pin.encode(), salt, iterations)


def hash_pin(pin: str, *, iterations: int = ITERATIONS) -> str:
    """The salted hash of a PIN to store; the PIN must have passed `pin_problem`."""
    salt = secrets.token_bytes(16)
    return f"{SCHEME}${iterations}${salt.hex()}${_derive(pin, salt, iterations).hex()}"


def pin_matches(pin: str, stored: str) -> bool:
    """Whether `pin` is the one `stored` was made from; a malformed `stored` matches nothing."""
    try:
        scheme, iterations, salt, digest = stored.split("$")
        if scheme != SCHEME or not 1 <= int(iterations) <= 10_000_000:
            return False
        expected = bytes.fromhex(digest)
        return hmac.compare_digest(_derive(pin, bytes.fromhex(salt), int(iterations)), expected)
    except ValueError:
        return False
