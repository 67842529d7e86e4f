"""A five-row block font for the few words the verdict panel shouts: ВЫДАТЬ, ОТКАЗ, ОТМЕНЕНО.

The staff read the verdict from a metre away while handing over trays; colour alone is not enough
(colour-blind staff, a sunlit screen), so the word itself is drawn large.
"""

from __future__ import annotations

ROWS = 5

_GLYPHS: dict[str, tuple[str, ...]] = {
    "В": ("████ ", "█   █", "████ ", "█   █", "████ "),
    "Ы": ("█    █", "█    █", "███  █", "█  █ █", "███  █"),
    "Д": (" ███ ", " █ █ ", " █ █ ", "█████", "█   █"),
    "А": (" ███ ", "█   █", "█████", "█   █", "█   █"),
    "Т": ("█████", "  █  ", "  █  ", "  █  ", "  █  "),
    "Ь": ("█    ", "█    ", "████ ", "█   █", "████ "),
    "О": (" ███ ", "█   █", "█   █", "█   █", " ███ "),
    "К": ("█   █", "█  █ ", "███  ", "█  █ ", "█   █"),
    "З": ("████ ", "    █", " ███ ", "    █", "████ "),
    "М": ("█   █", "██ ██", "█ █ █", "█   █", "█   █"),
    "Е": ("█████", "█    ", "████ ", "█    ", "█████"),
    "Н": ("█   █", "█   █", "█████", "█   █", "█   █"),
    "!": ("█", "█", "█", " ", "█"),
    " ": ("  ", "  ", "  ", "  ", "  "),
}


def can_draw(word: str) -> bool:
    return all(ch in _GLYPHS for ch in word.upper())


def big(word: str) -> str:
    """The word in block letters, five lines; characters the font lacks fall back to plain text."""
    word = word.upper()
    if not can_draw(word):
        return word
    lines = []
    for row in range(ROWS):
        lines.append(" ".join(_GLYPHS[ch][row] for ch in word).rstrip())
    return "\n".join(lines)
