"""Benchmark: building instruction samples (issue 5 target: 100,000 for ml-1m in under a minute).

Produces docs/results.md, 'Data and instruction data', row '100,000 samples of the paper's mixture,
ml-1m'.

Builds N samples of the paper's mixture on a prepared dataset with the teacher (or popularity when
no teacher run is given), batched as ctrlrec does, and a small subsample with batch size 1 (one
teacher query per sample, as the paper's code does over HTTP) side by side; prints samples/s and
the ratio.

    python bench/tasks.py --dataset ml-1m [--teacher RUN | --teacher popularity] [--n 100000]
"""

from __future__ import annotations

import argparse
import time

import torch

from ctrlrec.data import load
from ctrlrec.tasks.build import build_samples
from ctrlrec.tasks.config import PAPER_MIX, TaskConfig
from ctrlrec.tasks.context import PopularityRanker, TaskContext


def _sizes(n: int) -> dict[str, int]:
    total = sum(PAPER_MIX.values()) + 0.6
    out = {t: round(n * m / total) for t, m in PAPER_MIX.items()}
    out["I3"] = round(n * 0.45 / total)
    out["I3r"] = n - sum(out.values())
    return out


def run(ctx, n: int, batch: int) -> tuple[float, int]:
    cfg = TaskConfig(seed=0, sizes=_sizes(n), batch=batch)
    t, c = time.perf_counter(), time.process_time()
    samples, _ = build_samples(ctx, cfg, progress=False)
    return time.perf_counter() - t, time.process_time() - c, len(samples)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ml-1m")
    ap.add_argument("--teacher", default=None)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--baseline-n", type=int, default=500)
    args = ap.parse_args()
    ds = load(args.dataset)
    if args.teacher == "popularity":
        ctx, name = TaskContext(ds, PopularityRanker.from_dataset(ds)), "popularity ranker"
    else:
        from ctrlrec.teacher.api import Teacher

        if args.teacher:
            t = Teacher.load(args.teacher)
            name = f"teacher {args.teacher}"
        else:  # an untrained SASRec of the default size costs what a trained one costs per query
            from ctrlrec.teacher.config import TeacherConfig
            from ctrlrec.teacher.sasrec import SASRec

            torch.manual_seed(0)
            cfg = TeacherConfig(dataset=args.dataset)
            t = Teacher(SASRec(ds.n_items, cfg), cfg, None, ds.categories, ds.category_matrix)
            name = "SASRec of the default size (untrained: same query cost)"
        ctx = TaskContext(ds, t, t.config.max_len)
    secs, cpu, n = run(ctx, args.n, batch=1024)
    print(f"{args.dataset}, {name}: {n:,} samples in {secs:.1f} s wall, {cpu:.1f} s CPU = "
          f"{n / secs:,.0f} samples/s (batched teacher queries, 1024 per call, "
          f"{torch.get_num_threads()} torch threads)")
    bsecs, _, bn = run(ctx, args.baseline_n, batch=1)
    print(f"baseline, one teacher query per sample: {bn:,} samples in {bsecs:.1f} s = "
          f"{bn / bsecs:,.0f} samples/s")
    print(f"ratio: x{(n / secs) / (bn / bsecs):.1f}")


if __name__ == "__main__":
    main()
