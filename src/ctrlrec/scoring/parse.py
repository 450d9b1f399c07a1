"""Generated text -> raw titles with their character spans (spec §2.1 and §7), and normalisation.

Lines are the runs of text between `\\n` / `\\r` characters (so `\\r\\n` works too). A whitespace-only
line is dropped; from each other line one leading list marker (`12.`, `3)`, `-`, `*`, the space after
it optional) is stripped, then whitespace and straight/curly quotes from both ends. What is left is one
raw title, possibly empty (`3.`), in order. The span is where that title sits in the original text, so
RL can put an item's reward on the last token of its title whatever the tokenizer.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from dataclasses import dataclass

_LINE = re.compile(r"[^\r\n]+")
_MARKER = re.compile(r"\s*(?:[0-9]+[.)]|[-*])?")
_LINES = re.compile(r"^[^\S\n]*([0-9]+[.)]|[-*])?(.*)$", re.MULTILINE)
# Python's str.isspace() characters (minus \n, \r, which never occur inside a line) and the quotes.
_SPACE = "\t\x0b\x0c\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
_SPACE += "\u2028\u2029\u202f\u205f\u3000"
_QUOTES = "\"'\u201c\u201d\u2018\u2019"
_STRIP = _SPACE + _QUOTES


@dataclass(frozen=True)
class ParsedLines:
    """Raw titles in order, each with (start, end) offsets into the text it was parsed from."""

    titles: list[str]
    spans: list[tuple[int, int]]

    def __len__(self) -> int:
        return len(self.titles)


def parse_lines(text: str) -> ParsedLines:
    """Split generated text into raw titles (spec §2.1, §7) and where each one is in `text`."""
    titles: list[str] = []
    spans: list[tuple[int, int]] = []
    for m in _LINE.finditer(text):
        line = m.group()
        if line.isspace():
            continue
        a = _MARKER.match(line).end()
        rest = line[a:].lstrip(_STRIP)
        start = m.start() + len(line) - len(rest)
        title = rest.rstrip(_STRIP)
        titles.append(title)
        spans.append((start, start + len(title)))
    return ParsedLines(titles, spans)


def parse_titles(text: str) -> list[str]:
    """The raw titles of `parse_lines` without spans: the fast path that scoring a batch takes.

    One regex pass captures (marker, rest) of every line; a line is kept if it had a marker or has
    something besides whitespace, so `3.` stays (as an empty title) while blank lines go.
    """
    if "\r" in text:
        text = text.replace("\r", "\n")  # same length, so nothing else moves
    return [rest.strip(_STRIP) for marker, rest in _LINES.findall(text)
            if marker or (rest and not rest.isspace())]


def as_text(text_or_lines) -> str:
    """A response given as a list of lines is the same as those lines joined by newlines."""
    if isinstance(text_or_lines, str):
        return text_or_lines
    return "\n".join(text_or_lines)


_PUNCT: dict[int, None] | None = None


def _punct_table() -> dict[int, None]:
    global _PUNCT
    if _PUNCT is None:
        _PUNCT = {c: None for c in range(sys.maxunicode + 1)
                  if unicodedata.category(chr(c)).startswith("P")}
    return _PUNCT


def normalise(title: str) -> str:
    """NFKC, case-fold, delete Unicode punctuation (category P*), collapse and trim whitespace."""
    s = unicodedata.normalize("NFKC", title).casefold().translate(_punct_table())
    return " ".join(s.split())
