"""Benchmark: the grounded mode's pool choices on the retrieval side. Produces docs/results.md, 'The
aligned model', 'Around the model', row 'the demo's pool' (the full table: docs/log/2026-12.md).

For each (n_top, per_category) it builds the pools of the fixed test users (the teacher on the
prefix before the held-out item) and of training positions (random targets inside the training
sequences, the positions the teacher was trained on), and prints:
  size       mean pool size
  tokens     mean grounded I1- prompt length in the bundled model's tokens (user turn: --history
             items, the instruction, the pool)
  hit test   share of test targets inside the pool (the ceiling of HR in the grounded mode)
  hit train  the same at training positions (a gap means the teacher's pools flatter training)
  hit held   the same at each user's validation item (held out from the teacher's training):
             the positions `[tasks] target_positions = "heldout"` draws training samples from
  admits     share of cases of each control set whose pool holds a compliant answer

    python bench/pool_choices.py --teacher runs/pipeline-ml-100k/teacher [--grid 20:0,20:3,20:5,20:10]
"""

from __future__ import annotations

import argparse
import random

import numpy as np


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--teacher", required=True)
    ap.add_argument("--grid", default="10:0,20:0,20:2,20:3,20:5,20:10,30:3")
    ap.add_argument("--train-positions", type=int, default=943)
    ap.add_argument("--history", type=int, default=10, help="history items named in the prompt")
    args = ap.parse_args()

    from ctrlrec import intents as wording
    from ctrlrec.llm.models import load_tokenizer
    from ctrlrec.tasks.cli import _context
    from ctrlrec.tasks.config import TestsetConfig
    from ctrlrec.tasks.pool import PoolConfig, build_pools
    from ctrlrec.tasks.testsets import build_cases

    ctx, ds = _context(args.dataset, args.teacher)
    tok = load_tokenizer("smollm2-135m")
    rng = np.random.default_rng(0)
    train = ds.split.train
    users = [u for u in range(ds.n_users) if len(train[u]) >= 2]
    picks = rng.choice(users, size=args.train_positions)
    tr_prefix, tr_target = [], []
    for u in picks:
        t = int(rng.integers(1, len(train[u])))
        tr_prefix.append(train[u][:t])
        tr_target.append(int(train[u][t]))
    sp = ds.split
    va_prefix = [train[u] for u in sp.eval_users]
    va_target = [int(t) for t in sp.valid_target]
    sets = ("I0", "I1+", "I1-", "I2<=20%", "I2~30%", "I2>=30%", "I1+&I1-")
    print(f"{'n_top':>5} {'per_cat':>7} {'size':>6} {'tokens':>6} {'hit test':>8} {'hit train':>9} "
          f"{'hit held':>8}  admits "
          + " ".join(sets))
    for cell in args.grid.split(","):
        n_top, per = (int(x) for x in cell.split(":"))
        pc = PoolConfig(mode="grounded", n_top=n_top, per_category=per, history=args.history)
        cases = build_cases(ctx, TestsetConfig(seed=0, pool=pc), sets=sets)
        i0 = cases["I0"]
        hit_test = np.mean([c["target_id"] in set(c["pool_ids"]) for c in i0])
        pools = build_pools(ctx, tr_prefix, pc)
        hit_train = np.mean([t in set(p.items) for p, t in zip(pools, tr_target, strict=True)])
        vpools = build_pools(ctx, va_prefix, pc)
        hit_held = np.mean([t in set(p.items) for p, t in zip(vpools, va_target, strict=True)])
        lens = [len(tok(wording.messages(c["messages_grounded"][1]["content"])[1]["content"])["input_ids"])
                for c in random.Random(0).sample(cases["I1-"], 50)]
        adm = " ".join(f"{np.mean([c['pool_admits'] for c in cases[s]]):.3f}" for s in sets)
        print(f"{n_top:>5} {per:>7} {np.mean([len(c['pool_ids']) for c in i0]):>6.1f} {np.mean(lens):>6.0f} "
              f"{hit_test:>8.3f} {hit_train:>9.3f} {hit_held:>8.3f}  {adm}")


if __name__ == "__main__":
    main()
