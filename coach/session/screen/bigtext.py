"""Digits drawn in blocks, five rows high, for a countdown read from across the room."""

from __future__ import annotations

__all__ = ["GLYPH_ROWS", "big", "width"]

GLYPH_ROWS = 5

_GLYPHS: dict[str, tuple[str, ...]] = {
    "0": ("###", "#.#", "#.#", "#.#", "###"),
    "1": (".#.", "##.", ".#.", ".#.", "###"),
    "2": ("###", "..#", "###", "#..", "###"),
    "3": ("###", "..#", "###", "..#", "###"),
    "4": ("#.#", "#.#", "###", "..#", "..#"),
    "5": ("###", "#..", "###", "..#", "###"),
    "6": ("###", "#..", "###", "#.#", "###"),
    "7": ("###", "..#", "..#", "..#", "..#"),
    "8": ("###", "#.#", "###", "#.#", "###"),
    "9": ("###", "#.#", "###", "..#", "###"),
    ":": (".", "#", ".", "#", "."),
    " ": ("..", "..", "..", "..", ".."),
}
"""Each character as rows of cells: # filled, . empty."""

_CELL = {"#": "██", ".": "  "}


def big(text: str) -> list[str]:
    """`text` (digits, colons, spaces) as GLYPH_ROWS lines of block characters."""
    glyphs = [_GLYPHS[char] for char in text if char in _GLYPHS]
    return [" ".join("".join(_CELL[cell] for cell in glyph[row]) for glyph in glyphs)
            for row in range(GLYPH_ROWS)]


def width(text: str) -> int:
    """Columns `big(text)` takes."""
    lines = big(text)
    return len(lines[0]) if lines else 0
