"""RL rewards (spec §5; paper §2.3, Eq. 1-5, Algorithm 1 with the `<=` fix), vectorised.

k*m is carried as an exact fraction num/den (two int64 arrays), so every comparison with it is an
integer comparison and `10 * 0.3` is exactly 3.
"""

from __future__ import annotations

import numpy as np

from ctrlrec.scoring.intents import KIND_CODE

I0, I1P, I1M, I2LE, I2AP, I2GE, I3 = (KIND_CODE[k] for k in ("I0", "I1+", "I1-", "I2<=", "I2~",
                                                             "I2>=", "I3"))


def preference(illegal: np.ndarray, is_target: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """S_p (Eq. 1): -1 if illegal, +1 if the target, else 1/log2(rank + 3)."""
    s = 1.0 / np.log2(rank.astype(np.float64) + 3.0)
    return np.where(illegal, -1.0, np.where(is_target, 1.0, s))


def discounted(illegal: np.ndarray, s: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """S*_p (Eq. 3): -1 if illegal, else S_p / log2(p + 2) with 0-based p."""
    return np.where(illegal, -1.0, s / np.log2(pos.astype(np.float64) + 2.0))


def segment_cumsum(x: np.ndarray, seg: np.ndarray, n_seg: int) -> np.ndarray:
    """Running sums of `x` restarting at each segment; segments are contiguous runs of `seg`."""
    cs = np.cumsum(x, dtype=np.int64)
    starts = np.searchsorted(seg, np.arange(n_seg), side="left")
    base = np.concatenate(([0], cs))[starts]
    return cs - base[seg]


def control_branches(kind, legal, in_c, n_in, n_out, k, num, den, s):
    """S^ctl_p of Algorithm 1 given running counts that already include the current legal item.

    All arguments are arrays of one length (one entry per line of one intent part); `s` is S_p.
    """
    out_c = ~in_c
    kd = k * den - num  # (k - k*m) * den
    le = np.select([n_out * den > kd, out_c, n_in * den <= num], [0.5, 1.0, 0.5], 0.0)
    ge = np.select([n_in > k, in_c, n_out * den <= kd], [0.5, 1.0, 0.5], 0.0)
    ap = np.select([in_c & (n_in * den <= num), in_c, n_in * den >= num, n_out * den <= kd],
                   [1.0, 0.0, 1.0, 0.5], 0.0)
    v = np.select(
        [kind == I0, (kind == I1P) | (kind == I3), kind == I1M, kind == I2LE, kind == I2GE],
        [s, in_c.astype(np.float64), out_c.astype(np.float64), le, ge],
        ap,
    )
    return np.where(legal, v, -1.0)


def control_scores(kind, legal, in_c, part, n_parts, k, num, den, s):
    """S^ctl_p over all lines of all parts, and each part's (Count_in, Count_out) of legal lines."""
    li = legal & in_c
    lo = legal & ~in_c
    n_in = segment_cumsum(li, part, n_parts)
    n_out = segment_cumsum(lo, part, n_parts)
    ctl = control_branches(kind, legal, in_c, n_in, n_out, k, num, den, s)
    count_in = np.bincount(part, weights=li, minlength=n_parts).astype(np.int64)
    count_out = np.bincount(part, weights=lo, minlength=n_parts).astype(np.int64)
    return ctl, count_in, count_out


def list_control(kind, count_in, count_out, k, num, den, sum_star):
    """Score^ctl_list (Eq. 4) per part; `sum_star` is the case's sum of S*_p (used by I0)."""
    x = np.select(
        [(kind == I1P) | (kind == I3), kind == I1M, kind == I2LE, kind == I2GE],
        [(k - count_in) * den, (k - count_out) * den, np.maximum(count_in * den - num, 0),
         np.maximum(num - count_in * den, 0)],
        np.abs(count_in * den - num),
    )
    v = 1.0 / np.log2(x / den + 2.0)
    return np.where(kind == I0, sum_star, v)
