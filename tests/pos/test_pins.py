"""Staff PINs: 4 to 6 digits, stored as a salted PBKDF2 hash that only the right PIN matches."""

from __future__ import annotations

import pytest

from pos.pins import hash_pin, pin_matches, pin_problem


@pytest.mark.parametrize("pin", ["1234", "000000", "98765"])
def test_four_to_six_ascii_digits_make_a_pin(pin: str) -> None:
    assert pin_problem(pin) is None


@pytest.mark.parametrize("pin", ["", "123", "1234567", "12 4", "abcd", "١٢٣٤", "１２３４"])
def test_anything_else_is_refused_in_russian(pin: str) -> None:
    assert pin_problem(pin) == "ПИН-код — от 4 до 6 цифр"


def test_only_the_right_pin_matches_its_salted_hash() -> None:
    stored = hash_pin("2468", iterations=1000)
    scheme, iterations, salt, digest = stored.split("$")
    assert (scheme, iterations, len(salt), len(digest)) == ("pbkdf2_sha256", "1000", 32, 64)
    assert pin_matches("2468", stored) and not pin_matches("2469", stored) and not pin_matches("", stored)
    assert hash_pin("2468", iterations=1000) != stored  # a new salt each time


@pytest.mark.parametrize("stored", ["", "2468", "md5$1$00$00", "pbkdf2_sha256$x$00$00", "pbkdf2_sha256$0$00$00",
                                    "pbkdf2_sha256$1000$zz$00", "pbkdf2_sha256$99999999999$00$00"])
def test_a_malformed_stored_hash_matches_nothing(stored: str) -> None:
    assert not pin_matches("2468", stored)
