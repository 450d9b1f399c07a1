"""Labels from a teacher ranking, filtered to obey an instruction (paper §2.2.2).

Each function takes one ranking row (all item ids, best first) plus boolean masks over items and
returns the label's item ids, or None when the catalog cannot satisfy the instruction.
"""

from __future__ import annotations

import math
from fractions import Fraction

import numpy as np


def top_allowed(
    ranking: np.ndarray, allowed: np.ndarray, k: int, first: int | None = None
) -> list[int] | None:
    """The first k allowed items of the ranking; `first` (the target) leads when it is allowed."""
    head = [first] if first is not None and allowed[first] else []
    ok = allowed[ranking]
    picks = ranking[ok][: k + 1].tolist()
    out = head + [i for i in picks if i not in head][: k - len(head)]
    return out if len(out) == k else None


def count_bounds(kind: str, k: int, km: Fraction) -> tuple[int, int]:
    """Smallest and largest number of items in C that satisfy an I2 instruction (spec §4 CPA)."""
    if kind == "I2<=":
        return 0, min(k, math.floor(km))
    if kind == "I2>=":
        return max(0, math.ceil(km)), k
    if kind == "I2~":
        return max(0, math.ceil(km - 1)), min(k, math.floor(km + 1))
    raise ValueError(f"not a proportion kind: {kind}")


def proportion_label(
    ranking: np.ndarray,
    allowed: np.ndarray,
    in_c: np.ndarray,
    k: int,
    kind: str,
    km: Fraction,
    first: int | None = None,
) -> list[int] | None:
    """The teacher's best items inside and outside C, in numbers that satisfy the instruction.

    Start from the teacher's own top-k (target first when allowed); if its count in C is outside the
    allowed range, move to the nearest allowed count by taking the best items of each side, so the
    list keeps the teacher's order. If the target cannot lead a valid list, it is left out.
    """
    lo, hi = count_bounds(kind, k, km)
    if lo > hi:
        return None
    cand_all = ranking[allowed[ranking]]
    heads = [[first], []] if first is not None and allowed[first] else [[]]
    for head in heads:
        cand = cand_all[cand_all != head[0]] if head else cand_all
        if len(cand) + len(head) < k:
            return None
        natural_in = int(in_c[cand[: k - len(head)]].sum()) + sum(int(in_c[h]) for h in head)
        want_in = min(max(natural_in, lo), hi)
        head_in = sum(int(in_c[h]) for h in head)
        need_in, need_out = want_in - head_in, (k - want_in) - (len(head) - head_in)
        pos_in = np.flatnonzero(in_c[cand])
        pos_out = np.flatnonzero(~in_c[cand])
        if need_in < 0 or need_out < 0 or need_in > len(pos_in) or need_out > len(pos_out):
            continue
        body = cand[np.sort(np.concatenate([pos_in[:need_in], pos_out[:need_out]]))]
        return head + body.tolist()
    return None
