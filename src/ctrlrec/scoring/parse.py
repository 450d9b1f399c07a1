"""Generated text -> raw titles with their character spans (spec §2.1 and §7), and normalisation.

Lines are the runs of text between `\\n` / `\\r` characters (so `\\r\\n` works too). A whitespace-only
line is dropped; from each other line one leading list marker (`12.`, `3)`, `-`, `*`, the space after
it optional) is stripped, then whitespace and straight/curly quotes from both ends. What is left is one
raw title, possibly empty (`3.`), in order. One extension of the spec: the grounded mode's tagged
answer line, `3. [Comedy, Drama] 'Title'` (a bracketed tag, then the title in quotes), loses its tag
(a title that merely starts with brackets, `[PROTOTYPE]`, is kept: no quote follows). The span is
where that title sits in the original text, so RL can put an item's reward on the last token of its
title whatever the tokenizer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

import numpy as np

_LINE = re.compile(r"[^\r\n]+")
_MARKER = re.compile(r"\s*(?:[0-9]+[.)]|[-*])?")
# Python's str.isspace() characters (minus \n, \r, which never occur inside a line) and the quotes.
_SPACE = "\t\x0b\x0c\x1c\x1d\x1e\x1f \x85\xa0\u1680" + "".join(map(chr, range(0x2000, 0x200B)))
_SPACE += "\u2028\u2029\u202f\u205f\u3000"
_QUOTES = "\"'\u201c\u201d\u2018\u2019"
_STRIP = _SPACE + _QUOTES
_S = re.escape(_STRIP)
_Q = re.escape(_QUOTES)
# the tagged answer format: a bracketed category tag, then the title in quotes ("[Comedy] 'Title'")
_TAG_RE = r"\[[^\]\n]*\][" + re.escape(_SPACE) + r"]*(?=[" + _Q + r"])"
_TAG = re.compile(_TAG_RE)
_TITLE = re.compile(r"^[^\S\n]*(?:[0-9]+[.)]|[-*]|(?=\S))[" + _S + r"]*(?:" + _TAG_RE + r")?[" + _S
                    + r"]*((?:.*[^" + _S + r"\n])?)", re.MULTILINE)
_SEP = "\x00"


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
        tag = _TAG.match(rest)
        if tag:
            rest = rest[tag.end():].lstrip(_STRIP)
        start = m.start() + len(line) - len(rest)
        title = rest.rstrip(_STRIP)
        titles.append(title)
        spans.append((start, start + len(title)))
    return ParsedLines(titles, spans)


def parse_titles(text: str) -> list[str]:
    """The raw titles of `parse_lines` without spans: one regex `findall`.

    The regex matches a line that has a marker or something besides whitespace (so `3.` stays, as
    an empty title, while blank lines go), skips the marker and the leading spaces and quotes, and
    captures up to the last character that is not one of them.
    """
    if "\r" in text:
        text = text.replace("\r", "\n")  # same length, so nothing else moves
    return _TITLE.findall(text)


def parse_many(texts: list[str], chunk: int = 4096) -> tuple[list[str], np.ndarray]:
    """`parse_titles` of many texts: all raw titles in order, and how many each text has.

    A chunk of texts is joined with separator lines and parsed by one `findall`; the separators
    (lines holding one NUL, which the regex keeps as titles) then split the titles again. A chunk
    where a text holds a NUL itself is parsed text by text.
    """
    titles: list[str] = []
    counts: list[int] = []
    glue = "\n" + _SEP + "\n"
    for i in range(0, len(texts), chunk):
        part = texts[i:i + chunk]
        big = glue.join(part)
        if big.count(_SEP) != len(part) - 1:
            for t in part:
                found = parse_titles(t)
                titles += found
                counts.append(len(found))
            continue
        if "\r" in big:
            big = big.replace("\r", "\n")
        found = _TITLE.findall(big)
        at = found.index
        s = 0
        for _ in range(len(part) - 1):
            e = at(_SEP, s)
            titles += found[s:e]
            counts.append(e - s)
            s = e + 1
        titles += found[s:]
        counts.append(len(found) - s)
    return titles, np.asarray(counts, dtype=np.int64)


def as_text(text_or_lines) -> str:
    """A response given as a list of lines is the same as those lines joined by newlines."""
    if isinstance(text_or_lines, str):
        return text_or_lines
    return "\n".join(text_or_lines)


class _PunctTable(dict):
    """str.translate table deleting Unicode punctuation, filled lazily per code point seen
    (building it for all 1.1M code points up front cost ~3 s per process)."""

    def __missing__(self, code: int):
        if unicodedata.category(chr(code)).startswith("P"):
            self[code] = None
            return None
        self[code] = code
        return code


_PUNCT = _PunctTable()


def _punct_table() -> dict:
    return _PUNCT


def normalise(title: str) -> str:
    """NFKC, case-fold, delete Unicode punctuation (category P*), collapse and trim whitespace."""
    s = unicodedata.normalize("NFKC", title).casefold().translate(_punct_table())
    return " ".join(s.split())
