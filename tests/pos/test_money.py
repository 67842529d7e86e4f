"""Money typed by people: `pos.money.parse_rub` reads roubles into kopecks exactly, and says in Russian why not."""

from __future__ import annotations

import pytest

from pos.money import format_rub, parse_rub


@pytest.mark.parametrize(("text", "kopecks"), [
    ("48,58", 4858), ("48.58", 4858), ("48,5", 4850), ("108", 10800), ("1 000,50 ₽", 100050)])
def test_roubles_are_read_exactly(text: str, kopecks: int) -> None:
    assert parse_rub(text) == kopecks
    assert parse_rub(format_rub(kopecks)) == kopecks


@pytest.mark.parametrize(("text", "why"), [
    ("-50", "сумма не может быть отрицательной: «-50»"), ("−12,50", "не может быть отрицательной"),
    ("12,5О", "например «48,58», а не «12,5О»"), ("1,234", "а не «1,234»"), ("", "например «48,58»")])
def test_a_bad_sum_is_refused_in_russian(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why):
        parse_rub(text)
