"""The SGL/SimGCL stall on small data: BPR and InfoNCE per step, then validation Recall@20.

    PYTHONPATH=src python bench/cf_ssl_stall.py --model simgcl --lr 0.01 --batch-size 4096 \
        --ssl-weight 0.2 --epochs 2 [--dataset ml-100k] [--every 40]

Uses the trainer's own pieces (prepare, build, sampler, evaluator) without early stopping, so the
loss parts can be watched step by step (docs/results.md, CF models).
"""

from __future__ import annotations

import argparse

import numpy as np
import torch

from ctrlrec.cf.config import CFConfig
from ctrlrec.cf.models import build
from ctrlrec.cf.sampler import BPRSampler
from ctrlrec.cf.train import Evaluator, prepare


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--model", default="simgcl")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--batch-size", type=int, default=4096)
    ap.add_argument("--ssl-weight", type=float, default=None)
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--every", type=int, default=40)
    args = ap.parse_args()
    torch.set_num_threads(1)
    cfg = CFConfig(dataset=args.dataset, model=args.model, lr=args.lr, batch_size=args.batch_size,
                   ssl_weight=args.ssl_weight)
    torch.manual_seed(cfg.seed)
    _, split, us, its = prepare(cfg)
    model = build(cfg, split.n_users, split.n_items, split.train, us, its)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sampler, evaluator = BPRSampler(split.train, split.n_items, seed=cfg.seed), Evaluator(split)
    rng = np.random.default_rng(cfg.seed + 1)
    for epoch in range(args.epochs):
        model.train()
        model.on_epoch(rng)
        for step, (u, p, q) in enumerate(sampler.epoch(cfg.batch_size)):
            parts = model.loss(*(torch.from_numpy(x) for x in (u, p, q)))
            opt.zero_grad()
            sum(parts.values()).backward()
            opt.step()
            if step % args.every == 0:
                print(epoch, step, {k: round(float(v.detach()), 4) for k, v in parts.items()},
                      flush=True)
        print(f"epoch {epoch + 1}: valid recall@20 {evaluator(model, 'valid')['recall@20']:.4f}",
              flush=True)


if __name__ == "__main__":
    main()
