"""A plain keyword parser of instructions: what a rules baseline would do with the same text.

`parse_keywords` finds the categories named literally in a request (any case, with a simple
plural: +s, +es, y -> ies; with or without punctuation: "sci-fi", "sci fi", "scifi"; "children's",
"childrens", "children"), splits the text into clauses, and reads each clause with cue words:

- a proportion cue and a number make an I2 intent: "at most", "no more than", "up to", "or fewer",
  "or less" -> I2<=; "at least", "or more", "no less than" -> I2>=; "about", "around", "roughly"
  -> I2~. The number is a percentage ("30%", "30 percent"), a fraction word ("half", "a third",
  "a quarter") or a count (digits or "zero".."fifteen") taken as a share of k;
- otherwise a negation cue ("no", "not", "n't", "without", "skip", "avoid", "except", "nothing",
  "anything but", "tired of", "leave out", "keep ... out") makes I1-;
- otherwise a named category is I1+. Nothing named: I0.

It knows no synonyms on purpose: "nothing scary, thanks" names no category, so it reads as I0.
The templates of `ctrlrec.intents` are all parsed back to the intent they render.
"""

from __future__ import annotations

import re
from fractions import Fraction

from ctrlrec.scoring.intents import Intent

_NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                 "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen")
_WORD_VALUE = {w: i for i, w in enumerate(_NUMBER_WORDS)}
_FRACTIONS = {"half": Fraction(1, 2), "third": Fraction(1, 3), "quarter": Fraction(1, 4)}

_LE = r"at\s+most|no\s+more\s+than|up\s+to|or\s+fewer|or\s+less"
_GE = r"at\s+least|or\s+more|no\s+less\s+than"
_ABOUT = r"about|around|roughly"
_CUES = re.compile(rf"\b(?:(?P<le>{_LE})|(?P<ge>{_GE})|(?P<about>{_ABOUT}))\b")
_NEGATION = re.compile(
    r"\b(?:no|not|without|skip|avoid|except|nothing|anything\s+but|tired\s+of|leave\s+out)\b"
    r"|n't\b|\bkeep\b.*\bout\b"
)
_PERCENT = re.compile(r"(?<![\w.])(\d+(?:\.\d+)?)\s*(?:%|percent\b|per\s+cent\b)")
_FRACTION = re.compile(r"\b(?:(?:a|one)\s+)?(half|third|quarter)\b")
_COUNT = re.compile(r"(?<![\w.])(\d+)(?![\w.%])|\b(" + "|".join(_NUMBER_WORDS) + r")\b")
# Clause ends: sentence and list punctuation (not the point in "12.5%"), dashes, and joining words
# ("but" unless it is part of "anything but", "nothing but", "everything but" or "all but").
_BOUNDARY = re.compile(
    r"(?<!\d)\.|\.(?!\d)|[;!?,:()\u2014\u2013]|\s-\s"
    r"|\b(?:and|while|whereas|though|although|plus)\b"
    r"|(?<!\banything)(?<!\bnothing)(?<!\beverything)(?<!\ball)\s+but\b"
)


def _variants(category: str) -> set[str]:
    """The literal forms that name a category: case-folded, with and without punctuation, plurals."""
    base = category.lower().replace("\u2019", "'").strip()
    forms = {base, re.sub(r"[^a-z0-9 ]", "", base), re.sub(r"[^a-z0-9]+", " ", base).strip()}
    if base.endswith("'s"):
        forms.add(base[:-2])
    out = set()
    for f in forms:
        if not f:
            continue
        out.update({f, f + "s", f + "es"})
        if re.search(r"[^aeiou]y$", f):
            out.add(f[:-1] + "ies")
    return out


def _pattern(category: str) -> re.Pattern:
    alts = sorted(_variants(category), key=len, reverse=True)
    body = "|".join(r"\s+".join(re.escape(w) for w in a.split()) for a in alts)
    return re.compile(rf"(?<![a-z0-9])(?:{body})(?![a-z0-9])")


def _mentions(text: str, categories: list[str]) -> list[tuple[int, int, str]]:
    """Non-overlapping (start, end, category) spans, the longest match winning, in text order."""
    found = [(m.start(), m.end(), c) for c in categories for m in _pattern(c).finditer(text)]
    found.sort(key=lambda s: (-(s[1] - s[0]), s[0]))
    chosen: list[tuple[int, int, str]] = []
    for s in found:
        if all(s[1] <= o[0] or s[0] >= o[1] for o in chosen):
            chosen.append(s)
    return sorted(chosen)


def _clauses(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[int, int]]:
    """(start, end) of the clauses; boundaries inside a category name do not count."""
    cuts = [0]
    for m in _BOUNDARY.finditer(text):
        if not any(s <= m.start() < e for s, e, _ in spans):
            cuts.extend((m.start(), m.end()))
    cuts.append(len(text))
    return [(cuts[i], cuts[i + 1]) for i in range(0, len(cuts), 2)]


def _proportion(clause: str, k: int) -> float | None:
    """The share a clause states: a percentage, a fraction word, or a count out of k."""
    m = _PERCENT.search(clause)
    if m:
        share = Fraction(m.group(1)) / 100
        return float(share) if share <= 1 else None
    m = _FRACTION.search(clause)
    if m:
        return float(_FRACTIONS[m.group(1)])
    for m in _COUNT.finditer(clause):
        n = int(m.group(1)) if m.group(1) else _WORD_VALUE[m.group(2)]
        if n <= k:
            return n / k
    return None


def parse_keywords(text: str, categories: list[str], k: int) -> tuple[Intent, ...]:
    """The intents a keyword baseline reads in `text` for a k-item list; (Intent("I0"),) if none."""
    low = text.lower().replace("\u2019", "'")
    spans = _mentions(low, categories)
    out: list[Intent] = []
    for start, end in _clauses(low, spans):
        inside = [s for s in spans if start <= s[0] < end]
        if not inside:
            continue
        masked = low
        for s, e, _ in inside:
            masked = masked[:s] + " " * (e - s) + masked[e:]
        clause = masked[start:end]
        cue = _CUES.search(clause)
        share = _proportion(clause, k) if cue else None
        for _, _, cat in inside:
            if cue and share is not None:
                kind = "I2<=" if cue.group("le") else "I2>=" if cue.group("ge") else "I2~"
                intent = Intent(kind, cat, share)
            elif _NEGATION.search(clause):
                intent = Intent("I1-", cat)
            else:
                intent = Intent("I1+", cat)
            if intent not in out:
                out.append(intent)
    return tuple(out) or (Intent("I0"),)
