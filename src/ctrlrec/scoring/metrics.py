"""Metrics per list (spec §4), vectorised over a batch; null is NaN in the arrays.

HR/NDCG and the formatting metrics are per list; TCP/CPA per intent part (a combined instruction
has several parts). Averages over lists are plain means that keep every list, empty ones included.
"""

from __future__ import annotations

import numpy as np

from ctrlrec.scoring.rewards import I0, I2AP, I2GE, I2LE

LIST_METRICS = ("HR", "NDCG", "CorrectCount", "RepeatItem", "NonExist", "InHistory")
PART_METRICS = ("TCP", "CPA")
METRICS = ("HR", "NDCG", "TCP", "CPA", "CorrectCount", "RepeatItem", "NonExist", "InHistory")


def list_metrics(row, pos, n_lines, k, has_target, hit, flags) -> dict[str, np.ndarray]:
    """HR, NDCG, CorrectCount and the formatting shares for each of `len(n_lines)` lists.

    `hit[t]` is True where line t is the target at a legal position (at most one per list).
    """
    b = len(n_lines)
    hr = np.bincount(row, weights=hit, minlength=b)
    ndcg = np.bincount(row, weights=hit / np.log2(pos + 2.0), minlength=b)
    nan = np.full(b, np.nan)
    out = {
        "HR": np.where(has_target, hr, nan),
        "NDCG": np.where(has_target, ndcg, nan),
        "CorrectCount": (n_lines == k).astype(np.float64),
    }
    head = pos < k[row]
    denom = np.minimum(n_lines, k).astype(np.float64)
    safe = np.maximum(denom, 1.0)
    for name, flag in (("RepeatItem", flags.repeat), ("NonExist", flags.nonexistent),
                       ("InHistory", flags.in_history)):
        count = np.bincount(row, weights=flag & head, minlength=b)
        out[name] = np.where(denom > 0, count / safe, 0.0)
    return out


def part_metrics(kind, k, num, den, distinct_in) -> dict[str, np.ndarray]:
    """TCP and CPA per part from the count of distinct grounded items of the first k lines in C."""
    tcp = np.where(kind == I0, np.nan, distinct_in / k)
    c = distinct_in * den
    cpa = np.select([kind == I2LE, kind == I2GE, kind == I2AP],
                    [c <= num, c >= num, np.abs(c - num) <= den], np.nan)
    return {"TCP": tcp, "CPA": cpa.astype(np.float64)}
