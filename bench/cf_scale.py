"""LightGCN at scale: a generated graph of 1M users, 100k items and 20M interactions (by default).

Produces docs/results.md, 'CF models', row 'LightGCN at scale'.

    PYTHONPATH=src python bench/cf_scale.py [--users 1000000 --items 100000 --interactions 20000000]
                                            [--batch-size 8192] [--batches 6] [--threads 2]

Interactions are drawn with a long-tailed item popularity (p ~ 1 / (rank + 10)^0.8) and uniform
users, duplicates removed. The script times, one after the other: generating the pairs, building
the normalised sparse adjacency, building the model, preparing an epoch of BPR triples, and
`--batches` training steps of `ctrlrec.cf`'s own LightGCN (3 layers, dim 64, each step a full
propagation over the graph, forward and backward, as in training). The first step is a warm-up and
not counted; seconds per epoch = mean step time x steps per epoch (a full epoch at this size takes
hours on a laptop CPU, so it is extrapolated and says so). Peak memory is the process's maximum
resident set size. The baseline beside it is the same step with the adjacency multiplied as COO,
the sparse format before CSR was adopted (`--no-baseline` skips it).
"""

from __future__ import annotations

import argparse
import json
import resource
import time
from pathlib import Path

import numpy as np
import torch

from ctrlrec.cf.config import CFConfig
from ctrlrec.cf.lightgcn import LightGCN
from ctrlrec.cf.sampler import BPRSampler


def rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # ru_maxrss is in KiB


def generate(n_users: int, n_items: int, n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    w = 1.0 / (np.arange(n_items) + 10.0) ** 0.8
    items = rng.choice(n_items, size=n, p=w / w.sum())
    users = rng.integers(n_users, size=n)
    keys = np.unique(users.astype(np.int64) * n_items + items)
    return np.stack([keys // n_items, keys % n_items], axis=1)


def time_steps(model, sampler, cfg, batches: int, label: str) -> list[float]:
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    times = []
    for k, (u, p, q) in enumerate(sampler.epoch(cfg.batch_size)):
        if k > batches:
            break
        t0 = time.perf_counter()
        parts = model.loss(*(torch.from_numpy(x) for x in (u, p, q)))
        loss = sum(parts.values())
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t0)
        print(f"  [{label}] step {k}: {times[-1]:.2f} s (peak RSS {rss_gib():.2f} GiB)", flush=True)
    return times[1:]  # the first is a warm-up


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--users", type=int, default=1_000_000)
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--interactions", type=int, default=20_000_000)
    ap.add_argument("--batch-size", type=int, default=8192)
    ap.add_argument("--batches", type=int, default=6)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--no-baseline", action="store_true")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    out: dict = {"args": vars(args) | {"json": str(args.json)}, "torch": torch.__version__}

    t0 = time.perf_counter()
    pairs = generate(args.users, args.items, args.interactions)
    out["generate_s"] = time.perf_counter() - t0
    out["pairs"] = len(pairs)
    print(f"{len(pairs):,} distinct interactions generated in {out['generate_s']:.1f} s", flush=True)

    cfg = CFConfig(model="lightgcn", batch_size=args.batch_size, threads=args.threads, device="cpu")
    t0 = time.perf_counter()
    model = LightGCN(cfg, args.users, args.items, pairs)
    out["model_build_s"] = time.perf_counter() - t0
    print(f"adjacency + model built in {out['model_build_s']:.1f} s "
          f"({model.adj._nnz():,} non-zeros, layout {model.adj.layout}); peak RSS {rss_gib():.2f} GiB",
          flush=True)

    t0 = time.perf_counter()
    sampler = BPRSampler(pairs, args.items, seed=0)
    steps_per_epoch = sampler.n_batches(args.batch_size)
    out["sampler_s"] = time.perf_counter() - t0
    times = time_steps(model, sampler, cfg, args.batches, "ctrlrec")
    step = float(np.mean(times))
    out["ctrlrec"] = {"step_s": times, "mean_step_s": step, "steps_per_epoch": steps_per_epoch,
                      "epoch_s_extrapolated": step * steps_per_epoch, "peak_rss_gib": rss_gib()}
    print(f"ctrlrec LightGCN: {step:.2f} s/step x {steps_per_epoch:,} steps = "
          f"{step * steps_per_epoch / 3600:.2f} h/epoch (extrapolated); peak RSS {rss_gib():.2f} GiB",
          flush=True)

    if not args.no_baseline and model.adj.layout != torch.sparse_coo:
        model.adj = model.adj.to_sparse_coo().coalesce()
        base = float(np.mean(time_steps(model, sampler, cfg, args.batches, "COO baseline")))
        out["coo_baseline"] = {"mean_step_s": base, "epoch_s_extrapolated": base * steps_per_epoch}
        out["speedup_vs_coo"] = base / step
        print(f"COO baseline: {base:.2f} s/step; ctrlrec (CSR) is {base / step:.2f}x faster",
              flush=True)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
