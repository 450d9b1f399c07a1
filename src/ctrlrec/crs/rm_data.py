"""Reward-model data: (conversation so far, recommendation turn, weak label) examples from dialogues,
and preference pairs within a group (the turns of one dialogue, its alternatives included).

A pair (chosen, rejected) is two examples of one group whose labels differ by more than `min_gap`;
at most `max_pairs` pairs are drawn per group. Groups, not pairs, are split into train and held-out,
so no held-out conversation is seen in training.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

import numpy as np

from ctrlrec.crs import state
from ctrlrec.crs.dialogue import Dialogue
from ctrlrec.crs.labels import LabelWeights, weak_label


@dataclass
class Example:
    group: str
    messages: list[dict]  # system, the conversation so far, and the recommendation as the last turn
    label: float


def examples(dialogues: list[Dialogue], weights: LabelWeights, k: int = 5) -> list[Example]:
    """One example per recommender turn (and alternative) that carries feedback."""
    out = []
    for d in dialogues:
        kk = int(d.meta.get("k", k))
        for i, turn in d.recommender_turns():
            for t in [turn, *turn.alternatives]:
                if t.feedback is None:
                    continue
                msgs = state.messages(d.turns[:i] + [t], kk)
                out.append(Example(d.id, msgs, weak_label(t.feedback, weights)))
    return out


def pairs(exs: list[Example], min_gap: float = 0.1, max_pairs: int = 16,
          seed: int = 0) -> list[tuple[int, int]]:
    """(chosen, rejected) example indexes: same group, label gap > min_gap, <= max_pairs per group."""
    groups: dict[str, list[int]] = {}
    for j, e in enumerate(exs):
        groups.setdefault(e.group, []).append(j)
    out = []
    for g, idx in groups.items():
        cand = [(a, b) for a in idx for b in idx if exs[a].label - exs[b].label > min_gap]
        if len(cand) > max_pairs:
            rng = np.random.default_rng([seed, zlib.crc32(g.encode())])
            cand = [cand[j] for j in sorted(rng.choice(len(cand), max_pairs, replace=False))]
        out += cand
    return out


def split_groups(exs: list[Example], valid_share: float, seed: int = 0) -> tuple[set[str], set[str]]:
    """(train groups, held-out groups): a seeded share of the groups is held out."""
    groups = sorted({e.group for e in exs})
    rng = np.random.default_rng(seed)
    order = rng.permutation(len(groups))
    n_valid = int(round(valid_share * len(groups)))
    if valid_share > 0 and len(groups) > 1:
        n_valid = min(max(n_valid, 1), len(groups) - 1)
    valid = {groups[j] for j in order[:n_valid]}
    return set(groups) - valid, valid
