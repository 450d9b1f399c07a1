"""TEMPORARY evaluator, to be replaced by `ctrlrec.scoring` (spec: shared/spec/scoring.md).

It exists only so the SFT stage can validate and be measured before the scoring module lands:
grounding is exact title match (then a case/whitespace-folded match), with no fuzzy matching, so its
NonExist rate is an upper bound of what scoring will report. Same call shape as the validation hook:
`evaluator(generations, cases) -> {metric: mean}`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

_MARKER = re.compile(r"^\s*(?:\d+\s*[.)]|[-*•])\s*")


def _fold(s: str) -> str:
    return " ".join(s.casefold().split())


def parse(text: str) -> list[str]:
    """One raw title per non-empty line, list markers and quotes stripped."""
    out = []
    for line in text.splitlines():
        line = _MARKER.sub("", line).strip().strip("\"'").strip()
        if line:
            out.append(line)
    return out


def make_evaluator(titles: list[str], k_eval: int | None = None) -> Callable[[list[str], list[dict]], dict]:
    """An evaluator over a catalog given as titles indexed by item id."""
    exact = {}
    folded = {}
    for i, t in enumerate(titles):
        exact.setdefault(t, i)
        folded.setdefault(_fold(t), i)

    def ground(raw: str) -> int | None:
        i = exact.get(raw)
        return i if i is not None else folded.get(_fold(raw))

    def evaluate(generations: list[str], cases: list[dict]) -> dict:
        sums = dict.fromkeys(("HR", "NDCG", "CorrectCount", "RepeatItem", "NonExist", "InHistory"), 0.0)
        for text, case in zip(generations, cases, strict=True):
            k = int(k_eval or case["k"])
            lines = parse(text)
            items = [ground(r) for r in lines]
            history = set(case.get("history") or [])
            seen: set[int] = set()
            repeat = nonexist = inhist = 0
            hit_pos = None
            for p, it in enumerate(items[:k]):
                illegal = it is None or it in seen or it in history
                nonexist += it is None
                repeat += it is not None and it in seen
                inhist += it is not None and it in history
                if not illegal and it == case.get("target") and hit_pos is None:
                    hit_pos = p
                if it is not None:
                    seen.add(it)
            n = min(k, len(lines))
            sums["HR"] += hit_pos is not None
            sums["NDCG"] += 1 / math.log2(hit_pos + 2) if hit_pos is not None else 0.0
            sums["CorrectCount"] += len(lines) == case["k"]
            sums["RepeatItem"] += repeat / n if n else 0.0
            sums["NonExist"] += nonexist / n if n else 0.0
            sums["InHistory"] += inhist / n if n else 0.0
        n_cases = max(1, len(cases))
        return {name: v / n_cases for name, v in sums.items()}

    return evaluate
