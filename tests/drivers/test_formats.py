"""Card-number conversions and line formats (pure; hypothesis for the conversions)."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from drivers.card import CardIdError, low_bits, parse_card_id, to_decimal10, to_wiegand26
from drivers.lines import LineFormat, LineFormatError, LineSplitter


def test_worked_example_is_one_card_in_every_form() -> None:
    em = LineFormat("ironlogic").decode("Em-Marine[5500] 126,58404").uid
    assert em == "EM:55007EE424"
    assert to_decimal10(em) == "0008315940"
    assert to_wiegand26(em) == "126,58404"
    assert low_bits(em) == low_bits("D10:0008315940")
    assert low_bits(em)[1] == low_bits(parse_card_id("126,58404"))[1]


def test_second_ironlogic_example_converts_to_the_documented_forms() -> None:
    em = LineFormat("ironlogic").decode("Em-Marine[1700] 009,22847").uid
    assert em == "EM:170009593F"
    assert to_decimal10(em) == "0000612671"


@given(st.integers(min_value=0, max_value=(1 << 40) - 1))
def test_em_marine_d10_and_w26_forms_of_one_id_share_their_low_bits(value: int) -> None:
    em = parse_card_id(f"EM:{value:010X}")
    d10 = parse_card_id(f"{value & 0xFFFFFFFF:010d}")
    low24 = value & 0xFFFFFF
    w26 = parse_card_id(f"{low24 >> 16},{low24 & 0xFFFF}")
    assert low_bits(em) == low_bits(d10)
    assert low_bits(em)[1] == low_bits(w26)[1] == low24
    assert to_wiegand26(em) == to_wiegand26(d10) == to_wiegand26(w26)
    assert to_decimal10(em) == d10.removeprefix("D10:")


@given(st.integers(min_value=0, max_value=(1 << 40) - 1))
def test_ironlogic_text_of_any_em_id_decodes_back_to_the_same_id(value: int) -> None:
    hex10 = f"{value:010X}"
    line = f"Em-Marine[{hex10[:4]}] {int(hex10[4:6], 16):03d},{int(hex10[6:], 16):05d}"
    assert LineFormat("ironlogic").decode(line).uid == f"EM:{hex10}"


@given(st.text(max_size=40))
def test_parse_card_id_either_returns_a_canonical_id_or_raises_card_id_error(text: str) -> None:
    try:
        uid = parse_card_id(text)
    except CardIdError:
        return
    assert parse_card_id(uid) == uid  # canonical ids parse to themselves


@pytest.mark.parametrize(
    ("preset", "line", "uid"),
    [
        ("ironlogic", "Em-Marine[5500] 126,58404", "EM:55007EE424"),
        ("ironlogic", "Em-Marine[5500] 126,58404,", "EM:55007EE424"),  # firmware with a trailing comma
        ("ironlogic", "Mifare[BCD14264] 1K (0004,08) 066,53692", "UID:BCD14264"),
        ("hex", "BCD14264", "UID:BCD14264"),
        ("hex", "04a1b2c3d4e5f6", "UID:04A1B2C3D4E5F6"),
        ("hex", "55007EE424", "EM:55007EE424"),
        ("dec10", "0008315940", "D10:0008315940"),
        ("w26", "126,58404", "W26:126,58404"),
        ("w26", "W26:126,58404", "W26:126,58404"),
        ("w26digits", "12658404", "W26:126,58404"),
        ("auto", "Em-Marine[5500] 126,58404", "EM:55007EE424"),
        ("auto", "0008315940", "D10:0008315940"),
        ("auto", "55007EE424", "EM:55007EE424"),
    ],
)
def test_presets_turn_reader_lines_into_canonical_ids(preset: str, line: str, uid: str) -> None:
    assert LineFormat(preset).decode(line).uid == uid


def test_ironlogic_no_card_line_is_a_release_not_a_card() -> None:
    decoded = LineFormat("ironlogic").decode("No card")
    assert decoded.release and decoded.uid is None


def test_ironlogic_bracket_is_part_of_the_id_so_two_cards_stay_distinct() -> None:
    fmt = LineFormat("ironlogic")
    assert fmt.decode("Em-Marine[5500] 126,58404").uid != fmt.decode("Em-Marine[1700] 126,58404").uid


@pytest.mark.parametrize(
    ("preset", "line"),
    [
        ("dec10", "9999999999"),  # above 32 bits
        ("w26", "300,58404"),  # facility above 255
        ("w26", "126,70000"),  # number above 65535
        ("hex", "55007EE42"),  # 9 digits
        ("ironlogic", "Em-Marine[5500] 126"),
        ("ironlogic", "\x00\xff garbage"),
    ],
)
def test_lines_out_of_range_or_malformed_are_errors_not_cards(preset: str, line: str) -> None:
    decoded = LineFormat(preset).decode(line)
    assert decoded.uid is None and not decoded.release and decoded.error


def test_custom_regex_with_named_group_reads_a_converter_format() -> None:
    fmt = LineFormat(r"^CARD:(?P<hex>[0-9A-F]{10}) OK$")
    assert fmt.name == "custom"
    assert fmt.decode("CARD:55007EE424 OK").uid == "EM:55007EE424"


def test_custom_regex_without_a_known_group_is_refused_with_the_group_names() -> None:
    with pytest.raises(LineFormatError, match="named group"):
        LineFormat(r"(\d+)")
    with pytest.raises(LineFormatError, match="не регулярное выражение"):
        LineFormat(r"(?P<hex>[0-9")


def test_splitter_accepts_cr_lf_and_crlf_and_skips_empty_lines() -> None:
    splitter = LineSplitter("any")
    assert splitter.feed(b"a\r\nb\nc\rd") == [b"a", b"b", b"c"]
    assert splitter.pending == b"d"


def test_splitter_with_crlf_ending_keeps_lone_lf_inside_the_line() -> None:
    assert LineSplitter("crlf").feed(b"x\ny\r\n") == [b"x\ny"]


def test_endless_line_is_dropped_up_to_the_next_terminator_with_bounded_memory() -> None:
    splitter = LineSplitter("any", max_line=64)
    for _ in range(100):
        assert splitter.feed(b"A" * 50) == []
    assert len(splitter.pending) <= 64 + 50
    assert splitter.feed(b"tail of the endless line\r\nEm-Marine[5500] 126,58404\r\n") == [
        b"Em-Marine[5500] 126,58404"
    ]
    assert splitter.overflow_bytes >= 5000


_em_ids = st.integers(min_value=0, max_value=(1 << 40) - 1).map(lambda v: f"{v:010X}")
_noise_lines = st.binary(max_size=60).filter(lambda b: b"\r" not in b and b"\n" not in b)


def _ironlogic_line(hex10: str) -> bytes:
    return f"Em-Marine[{hex10[:4]}] {int(hex10[4:6], 16):03d},{int(hex10[6:], 16):05d}\r\n".encode()


@settings(deadline=None)
@given(
    st.lists(st.tuples(_noise_lines, _em_ids), min_size=1, max_size=6),
    st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=8),
)
def test_line_path_finds_every_card_between_noise_lines_whatever_the_chunking(
    parts: list[tuple[bytes, str]], chunk_sizes: list[int]
) -> None:
    fmt = LineFormat("ironlogic")
    for noise, _ in parts:
        assume(fmt.decode(noise.decode("ascii", errors="replace")).uid is None)
    stream = b"".join(noise + b"\r\n" + _ironlogic_line(em) for noise, em in parts)
    splitter = LineSplitter("any")
    got: list[str] = []
    pos, i = 0, 0
    while pos < len(stream):
        size = chunk_sizes[i % len(chunk_sizes)]
        for line in splitter.feed(stream[pos : pos + size]):
            uid = fmt.decode(line.decode("ascii", errors="replace")).uid
            if uid is not None:
                got.append(uid)
        pos, i = pos + size, i + 1
    assert got == [f"EM:{em}" for _, em in parts]
