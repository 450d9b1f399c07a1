"""Weak engagement labels from implicit signals (docs/crs.md, "Weak label").

    label = w_accept * accepted + w_sentiment * sentiment + w_dwell * min(dwell / dwell_cap, 1)
            + w_went_on * went_on

with accepted and went_on as 0/1, sentiment in [-1, 1] and dwell in seconds. The weights are the
`LabelWeights` fields; `parse` reads them from "accepted=1,sentiment=0.5,...".
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ctrlrec.crs.dialogue import Feedback
from ctrlrec.errors import CtrlrecError


@dataclass
class LabelWeights:
    accepted: float = 1.0  # weight of "the user took an item"
    sentiment: float = 0.5  # weight of the reply's polarity
    dwell: float = 0.3  # weight of the normalised dwell time
    went_on: float = 0.2  # weight of "the user continued"
    dwell_cap: float = 120.0  # seconds at which normalised dwell reaches 1

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def parse(cls, text: str | None) -> LabelWeights:
        w = cls()
        if not text:
            return w
        for part in text.split(","):
            name, _, value = part.partition("=")
            name = name.strip().replace("-", "_")
            if name not in w.to_dict():
                raise CtrlrecError(f"label weight {name!r}: expected some of {sorted(w.to_dict())}")
            try:
                setattr(w, name, float(value))
            except ValueError:
                raise CtrlrecError(f"label weight {part!r}: expected NAME=NUMBER") from None
        if w.dwell_cap <= 0:
            raise CtrlrecError("dwell_cap: expected a positive number of seconds")
        return w


def weak_label(fb: Feedback, w: LabelWeights) -> float:
    dwell = min(max(fb.dwell, 0.0) / w.dwell_cap, 1.0)
    return (w.accepted * float(fb.accepted) + w.sentiment * float(fb.sentiment) + w.dwell * dwell
            + w.went_on * float(fb.went_on))
