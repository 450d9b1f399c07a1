"""The one dialogue format: turns with a role, text, mentioned item ids and, on recommendation
turns, the user's implicit feedback. JSONL: one dialogue per line (`Dialogue.to_json`).

Roles are "user" and "recommender". A recommender turn's `items` are the items it recommends; a
user turn's `items` are the items the user mentions (seen / liked). `feedback` belongs to a
recommender turn and says how the user reacted to it (docs/crs.md, "Dialogue format").
`alternatives` are counterfactual recommender turns for the same state (same conversation before
it), each with the feedback the simulator would have given; the reward model pairs them.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from ctrlrec.atomic import atomic_file
from ctrlrec.errors import InputFileError

ROLES = ("user", "recommender")


@dataclass
class Feedback:
    """Implicit signals of one recommendation turn."""

    accepted: bool = False  # the user took (at least) one of the items
    sentiment: float = 0.0  # polarity of the user's reply, in [-1, 1]
    dwell: float = 0.0  # seconds the user spent on the recommendation before replying
    went_on: bool = True  # the user continued the conversation afterwards (False: left)
    accepted_items: list[int] = field(default_factory=list)
    rejected_items: list[int] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"accepted": self.accepted, "sentiment": self.sentiment, "dwell": self.dwell,
                "went_on": self.went_on, "accepted_items": list(self.accepted_items),
                "rejected_items": list(self.rejected_items)}

    @classmethod
    def from_json(cls, d: dict) -> Feedback:
        if not isinstance(d, dict):
            raise ValueError("feedback must be an object")
        s = float(d.get("sentiment", 0.0))
        if not -1.0 <= s <= 1.0:
            raise ValueError(f"feedback.sentiment {s} is outside [-1, 1]")
        dwell = float(d.get("dwell", 0.0))
        if dwell < 0:
            raise ValueError(f"feedback.dwell {dwell} is negative")
        return cls(bool(d.get("accepted", False)), s, dwell, bool(d.get("went_on", True)),
                   [int(i) for i in d.get("accepted_items", [])],
                   [int(i) for i in d.get("rejected_items", [])])


@dataclass
class Turn:
    role: str  # "user" or "recommender"
    text: str
    items: list[int] = field(default_factory=list)  # item ids mentioned / recommended
    feedback: Feedback | None = None  # recommender turns only
    alternatives: list[Turn] = field(default_factory=list)  # counterfactual recommender turns

    def to_json(self) -> dict:
        d: dict = {"role": self.role, "text": self.text, "items": list(self.items)}
        if self.feedback is not None:
            d["feedback"] = self.feedback.to_json()
        if self.alternatives:
            d["alternatives"] = [a.to_json() for a in self.alternatives]
        return d

    @classmethod
    def from_json(cls, d: dict) -> Turn:
        if not isinstance(d, dict):
            raise ValueError("a turn must be an object")
        role = d.get("role")
        if role not in ROLES:
            raise ValueError(f"turn role {role!r}; expected one of {ROLES}")
        if not isinstance(d.get("text"), str):
            raise ValueError("turn text must be a string")
        fb = d.get("feedback")
        if fb is not None and role != "recommender":
            raise ValueError("only recommender turns carry feedback")
        return cls(role, d["text"], [int(i) for i in d.get("items", [])],
                   Feedback.from_json(fb) if fb is not None else None,
                   [cls.from_json(a) for a in d.get("alternatives", [])])


@dataclass
class Dialogue:
    id: str
    turns: list[Turn]
    user: int | None = None  # the dataset user behind a simulated dialogue
    meta: dict = field(default_factory=dict)  # e.g. held-out items, stated preferences, titles

    def to_json(self) -> dict:
        return {"id": self.id, "user": self.user, "turns": [t.to_json() for t in self.turns],
                "meta": self.meta}

    @classmethod
    def from_json(cls, d: dict) -> Dialogue:
        if not isinstance(d, dict) or not isinstance(d.get("turns"), list):
            raise ValueError("expected an object with a 'turns' list")
        user = d.get("user")
        return cls(str(d.get("id", "")), [Turn.from_json(t) for t in d["turns"]],
                   None if user is None else int(user), dict(d.get("meta") or {}))

    def recommender_turns(self) -> Iterator[tuple[int, Turn]]:
        return ((i, t) for i, t in enumerate(self.turns) if t.role == "recommender")


EXPECTED = "one dialogue per line: {id, turns: [{role, text, items, feedback?}], user?, meta?}"


def read_lines(path: str | Path, what: str, expected: str, convert) -> list:
    """`convert(json_object)` of every non-blank line of a JSONL file; a line that is not JSON or
    that `convert` refuses raises one InputFileError naming the file and the line number."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(p, what)
    out = []
    with p.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                out.append(convert(json.loads(line)))
            except (json.JSONDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
                detail = f"missing key {exc}" if isinstance(exc, KeyError) else str(exc)
                raise InputFileError(p, expected, f"line {n}: {detail}") from None
    return out


def read(path: str | Path) -> list[Dialogue]:
    """Dialogues of a JSONL file; a malformed line raises InputFileError with its line number."""
    return read_lines(path, "a JSONL file of dialogues", EXPECTED, Dialogue.from_json)


def write(path: str | Path, dialogues: Iterable[Dialogue]) -> None:
    """Write dialogues as JSONL, atomically."""
    with atomic_file(path) as fh:
        for d in dialogues:
            fh.write(json.dumps(d.to_json(), ensure_ascii=False) + "\n")


def append(path: str | Path, records: Iterable[dict]) -> None:
    """Append JSON lines in one write(2) on an O_APPEND descriptor, fsynced: concurrent writers never
    interleave within a line, and a reader sees whole lines (a cut last line is dropped by `read`
    callers that tolerate it; ours does not write partial lines short of a crash)."""
    import os

    payload = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records).encode()
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, payload)
        os.fsync(fd)
    finally:
        os.close(fd)
