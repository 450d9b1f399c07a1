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

import numpy as np

_LINE = re.compile(r"[^\r\n]+")
_MARKER = re.compile(r"\s*(?:[0-9]+[.)]|[-*])?")
_LINES = re.compile(r"^[^\S\n]*([0-9]+[.)]|[-*])?(.*)$", re.MULTILINE)
_ONE = re.compile(r"[^\S\n]*([0-9]+[.)]|[-*])?(.*)")  # one line, without its newline
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


# Line -> its raw title, or False for a dropped (blank) line. Generated lists repeat lines a lot (the
# same title at the same rank), so `parse_many` parses each distinct line once. Bounded: emptied
# at the start of a call once it holds more than _LINE_CACHE_MAX lines.
_LINE_CACHE: dict[str, str | bool] = {}
_LINE_CACHE_MAX = 1 << 17


def _parse_line(line: str) -> str | bool:
    marker, rest = _ONE.match(line).groups()
    if marker or (rest and not rest.isspace()):
        return rest.strip(_STRIP)
    return False


def parse_many(texts: list[str]) -> tuple[list[str], np.ndarray]:
    """`parse_titles` of many texts: all raw titles in order, and how many each text has."""
    if not texts:
        return [], np.zeros(0, dtype=np.int64)
    cache = _LINE_CACHE
    if len(cache) > _LINE_CACHE_MAX:
        cache.clear()
    big = "\n".join(texts)
    if "\r" in big:
        big = big.replace("\r", "\n")
        per = [t.count("\n") + t.count("\r") + 1 for t in texts]
    else:
        per = [t.count("\n") + 1 for t in texts]
    lines = big.split("\n")
    titles = list(map(cache.get, lines))
    if None in titles:
        for line in {x for x, t in zip(lines, titles, strict=True) if t is None}:
            cache[line] = _parse_line(line)
        titles = list(map(cache.__getitem__, lines))
    counts = np.asarray(per, dtype=np.int64)
    if False in titles:
        kept = np.fromiter((t is not False for t in titles), dtype=bool, count=len(titles))
        counts = np.bincount(np.repeat(np.arange(len(texts)), counts)[kept], minlength=len(texts))
        titles = [t for t in titles if t is not False]
    return titles, counts


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
