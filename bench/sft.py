"""Benchmark: SFT training throughput of the batching schemes, side by side in one run.

Produces docs/results.md, 'The aligned model', 'Around the model', row 'SFT batching on the demo's
instruction data'.

On the default model (SmolLM2-135M, LoRA r=16 on all linear layers) and real instruction samples,
each scheme trains the same N samples for S optimiser steps in a fresh subprocess (so peak memory is
its own) and reports training tokens/s (non-padding tokens), the share of padded positions, seconds per
step and peak RSS:
  random   plain random batches, right-padded (the baseline: what a Trainer does by default)
  length   length-grouped batches (Trainer's LengthGroupedSampler), right-padded -- ctrlrec's default
  padfree  length-grouped, concatenated into one row without padding (block-diagonal attention)
  shared   groups of samples on one pool (tasks built with `group`), the shared prompt run once
           (ctrlrec.sft.shared); --batch samples a step are batch/group groups

    python bench/sft.py [--samples FILE] [--n 64] [--steps 6] [--batch 4] [--schemes random,length,padfree]
    python bench/sft.py --samples runs/group-exp/tasks/train.jsonl --group 6 --batch 6 --schemes length,shared

With --group G the N samples are whole groups of G (the first N/G such groups of FILE), the same
samples for every scheme. tokens/s counts each sample's full length, shared prefix included, so the
schemes compare as samples trained per second.

FILE defaults to $CTRLREC_HOME/tasks/ml-100k/train.jsonl (`ctrlrec sft interim-data ml-100k`).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
import torch
args = json.loads(sys.argv[1])
from ctrlrec.sft.config import SFTConfig
from ctrlrec.sft.trainer import build_trainer
shared = args["scheme"] == "shared"
cfg = SFTConfig(model=args["model"], train_file=args["train"], output_dir=args["out"],
                batching=args["scheme"],
                batch_size=args["batch"] // args["group"] if shared else args["batch"], grad_accum=1,
                max_steps=args["steps"],
                eval_every=0, save_every=10**6,
                logging_steps=10**6, max_length=args["max_length"], precision=args["precision"], seed=0)
trainer = build_trainer(cfg, progress=False)
counts = {"real": 0, "positions": 0, "steps": 0, "t_first": None}
inner = trainer.data_collator
def counting(items):
    batch = inner(items)
    rows = [r for it in items for r in it["rows"]] if shared else items
    counts["real"] += sum(len(r["input_ids"]) for r in rows)
    counts["positions"] += batch["input_ids"].numel() + (
        len(torch.unique(batch["prompt_row"])) * batch["prefix_ids"].shape[1] if shared else 0)
    return batch
trainer.data_collator = counting
from transformers import TrainerCallback
class Clock(TrainerCallback):
    def on_step_end(self, a, state, control, **kw):
        if state.global_step == 1:
            counts["t1"], counts["real1"] = time.perf_counter(), counts["real"]
trainer.add_callback(Clock())
t0 = time.perf_counter()
trainer.train()
dt = time.perf_counter() - t0
# steady state: steps 2..S (the first step pays one-off costs)
steady = time.perf_counter() - counts["t1"]
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"scheme": args["scheme"], "seconds": dt, "steady_seconds": steady,
                  "tokens": counts["real"], "steady_tokens": counts["real"] - counts["real1"],
                  "positions": counts["positions"], "steps": args["steps"], "peak_mb": peak}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    home = Path(os.environ.get("CTRLREC_HOME", Path.home() / ".cache" / "ctrlrec"))
    ap.add_argument("--samples", default=str(home / "tasks" / "ml-100k" / "train.jsonl"))
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--n", type=int, default=64, help="samples (the same first N for every scheme)")
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--batch", type=int, default=4)
    ap.add_argument("--max-length", type=int, default=512)
    ap.add_argument("--precision", default="auto")
    ap.add_argument("--schemes", default="random,length,padfree")
    ap.add_argument("--group", type=int, default=1, help="take whole sample groups of this size")
    ap.add_argument("--json", action="store_true", help="print the results as JSON too")
    a = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="ctrlrec-bench-sft-"))
    train = work / "train.jsonl"
    with open(a.samples) as src:
        rows = [json.loads(line) for line in src if line.strip()]
    if a.group > 1:  # the first N / G groups of exactly G samples
        by: dict = {}
        for r in rows:
            by.setdefault(r.get("group"), []).append(r)
        full = sorted(g for g, rs in by.items() if g is not None and len(rs) == a.group)
        rows = [r for g in full[: a.n // a.group] for r in by[g]]
    with open(train, "w") as dst:
        dst.writelines(json.dumps(r) + "\n" for r in rows[: a.n])
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    results = []
    for scheme in a.schemes.split(","):
        args = dict(
            model=a.model,
            train=str(train),
            out=str(work / scheme),
            scheme=scheme,
            batch=a.batch,
            steps=a.steps,
            max_length=a.max_length,
            precision=a.precision,
            group=a.group,
        )
        proc = subprocess.run(
            [sys.executable, "-c", CHILD, json.dumps(args)], capture_output=True, text=True, env=env
        )
        if proc.returncode != 0:
            sys.exit(f"{scheme} failed:\n{proc.stderr[-3000:]}")
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        r["tokens_per_s"] = r["steady_tokens"] / r["steady_seconds"]
        r["padded_share"] = 1 - r["tokens"] / r["positions"]
        r["s_per_step"] = r["steady_seconds"] / (r["steps"] - 1)
        results.append(r)
    base = results[0]
    print(
        f"SFT batching, {a.model}, {a.n} samples, {a.steps} steps of {a.batch}, {os.cpu_count()} CPUs "
        f"(steady state: steps 2..{a.steps}){f', groups of {a.group}' if a.group > 1 else ''}"
    )
    # run/tok: positions the model ran per token of the samples (padding adds, a shared prefix saves)
    print(f"{'scheme':8} {'tokens/s':>9} {'x base':>7} {'padded':>7} {'run/tok':>7} {'s/step':>7} "
          f"{'peak MB':>8}")
    for r in results:
        padded = "-" if r["scheme"] == "shared" else f"{r['padded_share']:.1%}"
        print(
            f"{r['scheme']:8} {r['tokens_per_s']:9.1f} {r['tokens_per_s'] / base['tokens_per_s']:7.2f} "
            f"{padded:>7} {r['positions'] / r['tokens']:7.2f} {r['s_per_step']:7.2f} {r['peak_mb']:8.0f}"
        )
    if a.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
