"""Debounce and the keyboard-wedge decoder (pure, with explicit timestamps)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.debounce import Debouncer
from drivers.wedge import WedgeDecoder, WedgeReader, WedgeResult
from tests.drivers.conftest import Collector


def test_repeats_of_a_card_held_in_the_field_are_one_read() -> None:
    d = Debouncer(1.5)
    sightings = [d.accept("EM:55007EE424", t / 10) for t in range(0, 100)]  # 10 s, every 0.1 s
    assert sightings.count(True) == 1


def test_same_card_after_the_window_is_a_new_presentation() -> None:
    d = Debouncer(1.5)
    assert d.accept("A", 0.0)
    assert not d.accept("A", 1.0)
    assert d.accept("A", 2.6)


def test_another_card_is_always_a_new_presentation() -> None:
    d = Debouncer(1.5)
    assert [d.accept(uid, 0.1 * i) for i, uid in enumerate("ABA")] == [True, True, True]


def test_window_starts_at_the_release_so_flaky_release_and_reconnect_stay_one_tap() -> None:
    d = Debouncer(1.5)
    assert d.accept("UID:BCD14264", 0.0)
    d.release(10.0)  # held for ten seconds
    assert not d.accept("UID:BCD14264", 10.3)  # nfcpy presence check failed and the card re-connected
    d.release(10.6)
    assert d.accept("UID:BCD14264", 12.5)


def test_zero_window_makes_every_sighting_a_read() -> None:
    d = Debouncer(0)
    assert d.accept("A", 0.0) and d.accept("A", 0.001)


def feed(decoder: WedgeDecoder, keys: str, start: float, gap: float, enter: bool = True) -> list[WedgeResult]:
    results: list[WedgeResult] = []
    t = start
    for ch in keys:
        results.append(decoder.feed(ch, t))
        t += gap
    if enter:
        results.append(decoder.feed("enter", t))
    return results


def test_fast_burst_of_digits_ending_in_enter_is_a_card() -> None:
    decoder = WedgeDecoder(reader_id="kbd")
    results = feed(decoder, "0008315940", 100.0, 0.008)
    last = results[-1]
    assert last.card is not None and last.card.uid == "D10:0008315940"
    assert last.card.reader_id == "kbd"
    assert all(r.consumed and r.text == "" for r in results)


def test_slow_human_typing_is_handed_back_as_text_and_enter_is_not_consumed() -> None:
    decoder = WedgeDecoder()
    results = feed(decoder, "0008315940", 100.0, 0.2)
    assert all(r.card is None for r in results)
    typed = "".join(r.text for r in results)
    assert typed == "0008315940"
    assert results[-1].consumed is False


def test_held_back_digit_is_released_by_flush_once_the_gap_has_passed() -> None:
    decoder = WedgeDecoder(max_gap=0.05)
    assert decoder.feed("7", 1.0).text == ""
    assert decoder.flush(1.03).text == ""
    assert decoder.flush(1.06).text == "7"
    assert decoder.pending == ""


def test_fast_burst_shorter_than_min_length_is_typing_not_a_card() -> None:
    decoder = WedgeDecoder(min_length=6)
    last = feed(decoder, "123", 0.0, 0.005)[-1]
    assert last.card is None and last.text == "123" and not last.consumed


def test_fast_burst_that_is_no_card_number_is_rejected_and_counted() -> None:
    decoder = WedgeDecoder(line_format="dec10")
    last = feed(decoder, "123456789", 0.0, 0.005)[-1]
    assert last.card is None and last.text == "123456789"
    assert decoder.rejected == 1


def test_other_keys_interrupt_a_burst_and_pass_through() -> None:
    decoder = WedgeDecoder()
    feed(decoder, "0008", 0.0, 0.005, enter=False)
    result = decoder.feed("escape", 0.03)
    assert result.text == "0008" and not result.consumed
    assert feed(decoder, "0008315940", 0.04, 0.005)[-1].card is not None


def test_a_pause_inside_the_digits_splits_typing_from_a_following_burst() -> None:
    decoder = WedgeDecoder()
    assert decoder.feed("5", 0.0).text == ""
    results = feed(decoder, "0008315940", 1.0, 0.005)
    assert results[0].text == "5"
    assert results[-1].card is not None and results[-1].card.uid == "D10:0008315940"


@pytest.mark.parametrize(
    ("fmt", "typed", "uid"),
    [("w26digits", "12658404", "W26:126,58404"), ("auto", "55007ee424", "EM:55007EE424")],
)
def test_wedge_format_decides_how_the_typed_digits_read(fmt: str, typed: str, uid: str) -> None:
    last = feed(WedgeDecoder(line_format=fmt), typed, 0.0, 0.005)[-1]
    assert last.card is not None and last.card.uid == uid


def test_endless_fast_digits_without_enter_are_released_as_text() -> None:
    decoder = WedgeDecoder(max_length=32)
    results = feed(decoder, "1" * 40, 0.0, 0.001, enter=False)
    assert "".join(r.text for r in results) + decoder.pending == "1" * 40
    assert len(decoder.pending) <= 32


def test_wedge_reader_delivers_debounced_reads_and_counts_rejected_bursts() -> None:
    sink = Collector()
    reader = WedgeReader(WedgeDecoder(reader_id="wedge", line_format="dec10"), debounce=1.5)
    reader.start(sink)
    t = 0.0
    for number in ["0008315940", "0008315940", "1234"]:  # the second is a repeat, the third too short
        for ch in number:
            reader.feed_key(ch, t)
            t += 0.005
        reader.feed_key("enter", t)
        t += 0.3
    for ch in "123456789":  # fast, long enough, but not a 10-digit number
        reader.feed_key(ch, t)
        t += 0.005
    reader.feed_key("enter", t)
    reader.stop()
    assert sink.cards == ["D10:0008315940"]
    assert sink.statuses[0].connected
    assert reader.stats.duplicates == 1 and reader.stats.bad_frames == 1


# Gaps away from the 50 ms limit itself, where float rounding of the timestamps decides.
_gaps = st.floats(min_value=0.001, max_value=0.2).filter(lambda g: abs(g - 0.05) > 1e-6)


@given(
    st.lists(
        st.tuples(st.sampled_from("0123456789"), _gaps),
        min_size=1,
        max_size=30,
    ),
    _gaps,
)
def test_a_card_is_only_ever_the_fast_run_of_keys_just_before_enter(
    keys: list[tuple[str, float]], enter_gap: float
) -> None:
    decoder = WedgeDecoder(max_gap=0.05, min_length=6, line_format="dec10")
    t = 0.0
    handed_back = ""
    for ch, gap in keys:
        t += gap
        handed_back += decoder.feed(ch, t).text
    result = decoder.feed("enter", t + enter_gap)
    handed_back += result.text
    typed = "".join(ch for ch, _ in keys)
    # The fast run before Enter: keys whose gap to the previous key is within max_gap.
    run = 1
    while run < len(keys) and keys[-run][1] <= 0.05:
        run += 1
    fast_tail = typed[-run:]
    if result.card is not None:
        assert enter_gap <= 0.05 and len(fast_tail) == 10
        assert result.card.uid == f"D10:{fast_tail}" and handed_back == typed[:-10]
    else:
        assert handed_back + decoder.pending == typed  # nothing typed is ever lost
