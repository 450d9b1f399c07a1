"""Judging rollouts: per response, where each item's title sits, its R_item, and R_list.

`ScoringReward` is the paper's reward (spec §5) through `ctrlrec.scoring`, the one definition; it
also reports the figures logged per step (components, per-intent compliance, formatting errors).
Any callable with the same shape works, e.g. `LineRule` in tests: rewards are pluggable, placement
and PPO do not care where they come from.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from ctrlrec.scoring import Case, Catalog, parse_lines, score_batch
from ctrlrec.scoring.intents import as_intents, intent_from_json, kind_label


@dataclass
class Judgement:
    """Rewards of a batch of responses, unamplified (placement applies the list scale)."""

    spans: list[list[tuple[int, int]]]  # per response: (start, end) of each parsed title in its text
    item_rewards: list[np.ndarray]  # per response: R_item of each parsed title
    list_rewards: np.ndarray  # per response: R_list
    stats: dict[str, float] = field(default_factory=dict)  # batch means to log


RewardFn = Callable[[Sequence[str], Sequence[dict]], Judgement]


def sample_intents(sample: dict):
    """The Intent(s) of an instruction sample (its JSON `intent`: one object or a list)."""
    raw = sample.get("intent") or {"kind": "I0"}
    return as_intents([intent_from_json(x) for x in (raw if isinstance(raw, list) else [raw])])


# per intent, the figure that says "the instruction was followed" (higher is better)
def _compliance(kind: str, m: dict) -> float | None:
    if kind == "I0":
        return m.get("HR")
    if kind == "I1+":
        return m.get("TCP")
    if kind == "I1-":
        return None if m.get("TCP") is None else 1.0 - m["TCP"]
    return m.get("CPA")


class ScoringReward:
    """R_item and R_list of spec §5 for responses to instruction samples.

    A sample needs `k`, `intent`, `history` (item ids shown), `target` (item id or None) and
    `teacher` (0-based ranks indexed by item id, or item ids best first).
    """

    def __init__(self, catalog: Catalog):
        self.catalog = catalog

    def __call__(self, texts: Sequence[str], samples: Sequence[dict]) -> Judgement:
        cases = [Case(t, int(s["k"]), sample_intents(s), s.get("history") or (), s.get("target"),
                      s.get("teacher")) for t, s in zip(texts, samples, strict=True)]
        res = score_batch(self.catalog, cases)
        spans, items, lists = [], [], np.asarray(res.list_reward, dtype=np.float64)
        per: dict[str, list[float]] = defaultdict(list)
        for i, case in enumerate(cases):
            r = res[i]
            spans.append(r.spans)
            items.append(np.asarray(r.item_rewards, dtype=np.float64))
            kind = kind_label(case.intents)
            m = r.metrics
            c = _compliance(kind, m)
            if c is not None:
                per[f"comply/{kind}"].append(float(c))
            per[f"format_err/{kind}"].append(1.0 - float(m["CorrectCount"]))
            per["format_err/all"].append(1.0 - float(m["CorrectCount"]))
            for name in ("RepeatItem", "NonExist", "InHistory"):
                per[f"fmt/{name}"].append(float(m[name]))
            per["lines"].append(float(len(r.titles)))
            per["illegal_share"].append(float(np.mean(r.illegal)) if len(r.illegal) else 1.0)
        stats = {k: float(np.mean(v)) for k, v in per.items()}
        return Judgement(spans, items, lists, stats)


@dataclass
class LineRule:
    """A simple rule reward (for tests and sanity runs): each line whose title starts with `prefix`
    earns `hit`, any other line `miss`; R_list is the share of hits among the lines (0 if none)."""

    prefix: str
    hit: float = 1.0
    miss: float = 0.0

    def __call__(self, texts: Sequence[str], samples: Sequence[dict]) -> Judgement:
        spans, items, lists, shares = [], [], [], []
        for t in texts:
            parsed = parse_lines(t)
            ok = np.array([title.startswith(self.prefix) for title in parsed.titles], dtype=bool)
            spans.append(parsed.spans)
            items.append(np.where(ok, self.hit, self.miss).astype(np.float64))
            share = float(ok.mean()) if len(ok) else 0.0
            lists.append(share)
            shares.append(share)
        return Judgement(spans, items, np.asarray(lists), {"rule/hit_share": float(np.mean(shares))})
