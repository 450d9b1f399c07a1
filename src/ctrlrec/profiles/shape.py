"""The fixed shape of a profile (RecLM): "User identity: A, B, C; User interests: X, Y, Z".

Three identity phrases and three interests, so a profile can be parsed, checked and re-rendered in one
canonical form. `parse` is lenient with model output (case, separators, numbering, extra whitespace,
a missing second label); `render` writes the canonical text. Item profiles use the same shape: the
identity and interests of the users the item is for.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

N_PARTS = 3
_LABEL = re.compile(r"user\s*identity\s*[:\-]|user\s*interests?\s*[:\-]", re.IGNORECASE)
_PLACEHOLDER = re.compile(r"^(?:[A-Z]|phrase\s*\d|\.\.\.|…)$", re.IGNORECASE)  # copied from the prompt
_LETTER = re.compile(r"[^\W\d_]")


_ECHO = re.compile(r"\buser\s*(?:identity|interests?)\b", re.IGNORECASE)  # a label, not content


def phrase_ok(p: str) -> bool:
    """A phrase has a letter and balanced brackets: not `1`, not a title cut at a comma (`Wedding (`);
    and it does not echo a label (`user identity is identity of the user`)."""
    return (not _PLACEHOLDER.match(p) and bool(_LETTER.search(p)) and not _ECHO.search(p)
            and p.count("(") == p.count(")") and p.count("[") == p.count("]"))


_SPLIT = re.compile(r"\s*(?:,|;|\n|^\s*[-*]\s|\d+[.)]\s)\s*", re.MULTILINE)


@dataclass(frozen=True)
class Profile:
    identity: tuple[str, ...]
    interests: tuple[str, ...]

    @property
    def valid(self) -> bool:
        """Exactly three phrases on each side, none of them a placeholder copied from the prompt
        ('A', 'X', 'phrase 1'), none without a letter or with unbalanced brackets (a title cut at
        its comma), none echoing a label ('user identity is ...'), none repeated on its side."""
        return all(len(side) == N_PARTS and len(set(p.lower() for p in side)) == N_PARTS
                   and all(phrase_ok(p) for p in side)
                   for side in (self.identity, self.interests))

    def render(self) -> str:
        return render(self.identity, self.interests)


def render(identity, interests) -> str:
    """The canonical text of a profile."""
    return f"User identity: {', '.join(identity)}; User interests: {', '.join(interests)}"


def _phrases(text: str) -> tuple[str, ...]:
    parts = [p.strip(" .;:-*\"'\t") for p in _SPLIT.split(text)]
    return tuple(p for p in parts if p)


def single_phrase(text: str) -> str | None:
    """The one phrase `text` parses to between two separators; None if it parses to none or several
    (`1. Drama` is `Drama`; `Top 10. Movies` is two)."""
    parts = _phrases(text)
    return parts[0] if len(parts) == 1 else None


def parse(text: str) -> Profile:
    """The identity and interest phrases of a (possibly untidy) profile; empty sides if absent.

    More than three phrases on a side are cut to the first three; fewer stay fewer (and `valid` is
    False), so a checker can tell a malformed answer from a tidy one.
    """
    text = text or ""
    found = list(_LABEL.finditer(text))
    identity, interests = "", ""
    for k, m in enumerate(found):
        end = found[k + 1].start() if k + 1 < len(found) else len(text)
        body = text[m.end():end]
        if m.group(0).lower().replace(" ", "").startswith("useridentity"):
            identity = identity or body
        else:
            interests = interests or body
    return Profile(_phrases(identity)[:N_PARTS], _phrases(interests)[:N_PARTS])


def canonical(text: str) -> str:
    """The canonical rendering of model output (whatever parsed of it)."""
    return parse(text).render()


def is_valid(text: str) -> bool:
    return parse(text).valid
