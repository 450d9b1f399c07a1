"""Two evaluation folders on the same cases, side by side: per set, the control metric of each and
their paired difference with a bootstrap interval over cases.

Produces docs/results.md, 'RL', the rows 'SFT+RL against SFT' (and serves any A/B of two models).

    python bench/eval_pair.py runs/rl-eval/sft runs/rl-eval/rl-s0 [--boot 2000] [--seed 0]

The folders come from `ctrlrec eval` (the same --tasks, --limit and --split): cases are matched by
id and variant "control", so both columns average the same cases. The metric per set: TCP for I1
sets (the share of the list in the asked category; for I1- the spec's TCP is the share still in the
excluded one, lower is better), CPA for I2 sets, HR@k and NDCG@k for I0, the exact-count rate
(CorrectCount) and the formatting errors for `count`. Difference = B - A; the interval is the 2.5th
and 97.5th percentiles of the mean difference over cases resampled with replacement, and `z` is
the mean difference over the bootstrap's standard deviation.
"""

from __future__ import annotations

import argparse
import json
import zlib
from pathlib import Path

import numpy as np

LOWER_IS_BETTER = {"NonExist", "RepeatItem", "InHistory"}


def metrics_for(name: str) -> list[str]:
    base = name.lstrip("h")
    if base.startswith("I1"):
        return ["TCP"]
    if base.startswith("I2"):
        return ["CPA"]
    if base.startswith("I0"):
        return ["HR", "NDCG"]
    if base == "count":
        return ["CorrectCount", "NonExist", "RepeatItem", "InHistory"]
    return ["HR"]


def records(folder: Path) -> dict[str, dict[str, dict]]:
    """{set name: {case id: metrics}} of the control variant."""
    out: dict[str, dict[str, dict]] = {}
    for f in sorted(folder.glob("*.jsonl")):
        for line in f.read_text().splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            if r.get("variant", "control") == "control":
                out.setdefault(r["set"], {})[r["id"]] = r["score"]["metrics"]
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("a", type=Path, help="the baseline's evaluation folder (e.g. SFT)")
    ap.add_argument("b", type=Path, help="the other's (e.g. SFT+RL)")
    ap.add_argument("--boot", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    ra, rb = records(args.a), records(args.b)
    print(f"A = {args.a}, B = {args.b}")
    print("| set | n | metric | A | B | B - A | 95% interval | z |\n|---|---|---|---|---|---|---|---|")
    for name in sorted(set(ra) & set(rb)):
        ids = sorted(set(ra[name]) & set(rb[name]))
        for m in metrics_for(name):
            pairs = [(ra[name][i].get(m), rb[name][i].get(m)) for i in ids]
            pairs = [(x, y) for x, y in pairs if x is not None and y is not None]
            if not pairs:
                continue
            a, b = np.array(pairs, dtype=float).T
            d = b - a
            rng = np.random.default_rng([args.seed, zlib.crc32(f"{name}/{m}".encode())])  # per set
            boot = d[rng.integers(0, len(d), size=(args.boot, len(d)))].mean(1)
            lo, hi = np.percentile(boot, [2.5, 97.5])
            sd = boot.std()
            z = d.mean() / sd if sd > 0 else float("nan")
            label = f"{m} (lower is better)" if m in LOWER_IS_BETTER or (
                m == "TCP" and name.lstrip("h").startswith("I1-")) else m
            print(f"| {name} | {len(d)} | {label} | {a.mean():.3f} | {b.mean():.3f} | {d.mean():+.3f} | "
                  f"[{lo:+.3f}, {hi:+.3f}] | {z:+.1f} |")


if __name__ == "__main__":
    main()
