"""RecLM's round-2 rule: which item the "will user u interact with item v?" question asks about.

Per user, one held-out item is drawn from the user's training items that also occur in a neighbour's
history (a user with no such item gets no sample). Round 1 shows the history without it. Round 2 asks
about it (answer Yes) or, half of the time, about an item of the neighbours' histories the user never
interacted with (answer No); with no such item it asks about the held-out one. The teacher ranks its
best-of-n profiles on both questions, so no target is written from the held-out item.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Round2:
    user: int
    held_out: int  # removed from the round-1 history
    negative: int | None  # an item of the neighbours' histories the user never interacted with
    ask_yes: bool  # True: round 2 asks about held_out; False: about negative

    @property
    def item(self) -> int:
        return self.held_out if self.ask_yes else int(self.negative)

    @property
    def answer(self) -> str:
        return "Yes" if self.ask_yes else "No"

    def questions(self) -> list[tuple[int, bool]]:
        """Both questions (item, answer is Yes) for ranking a profile."""
        return [(self.held_out, True)] + ([(self.negative, False)] if self.negative is not None else [])


def draw(user: int, history: Sequence[int], neighbour_histories: Sequence[Sequence[int]],
         rng: np.random.Generator) -> Round2 | None:
    """The round-2 sample of one user, or None when no training item occurs in a neighbour's history."""
    own = set(int(i) for i in history)
    pool = set(int(i) for h in neighbour_histories for i in h)
    shared = sorted(own & pool)
    if not shared:
        return None
    held = int(rng.choice(shared))
    negatives = sorted(pool - own)
    negative = int(rng.choice(negatives)) if negatives else None
    ask_yes = negative is None or bool(rng.random() < 0.5)
    return Round2(user, held, negative, ask_yes)


def draw_all(histories: Sequence[Sequence[int]], neighbours: Sequence[Sequence[int]],
             seed: int) -> dict[int, Round2]:
    """Round-2 samples of every user that has one, seeded per user (stable under subsetting)."""
    out = {}
    for u, hist in enumerate(histories):
        r = draw(u, hist, [histories[n] for n in neighbours[u]], np.random.default_rng([seed, u]))
        if r is not None:
            out[u] = r
    return out


def without(history: Sequence[int], item: int | None) -> list[int]:
    return [int(i) for i in history if item is None or int(i) != item]
