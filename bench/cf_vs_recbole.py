"""ctrlrec's BiasMF / LightGCN against RecBole 1.2.1's BPR / LightGCN: same split, same
hyper-parameters, CPU, one after the other.

Produces docs/results.md, 'CF models', rows 'LightGCN against RecBole 1.2.1' and 'BPR-MF against
RecBole's BPR'.

    PYTHONPATH=src python bench/cf_vs_recbole.py [--dataset ml-100k] [--models biasmf lightgcn]
                                                 [--workdir /tmp/cfbench] [--threads 1]

RecBole runs in the temporary venv built by teacher_vs_recbole.recbole_venv (torch==2.13.0, then
recbole==1.2.1, with its listed patches for current numpy/torch). It reads our random 80/10/10
split as benchmark files, so both sides train, validate and test on the same pairs with full
ranking and the user's known items masked. Prints per system: seconds per epoch (training only and
wall with validation), epochs and wall time to the best validation Recall@20, test Recall@20 /
NDCG@20. RecBole's BPR is plain MF (no item bias) with no L2 term, so our BiasMF runs as the same
model here: `item_bias=False`, `reg=0`. LightGCN runs with the shared L2 weight on both sides. Both
of ours start from RecBole's initial scale (`init_std=0`: Xavier normal; ours defaults to N(0, 0.1),
which cost BPR-MF ~6% Recall@20 here).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import tempfile
from pathlib import Path

import torch
from teacher_vs_recbole import recbole_venv

from ctrlrec.cf.config import CFConfig
from ctrlrec.cf.splits import make_split
from ctrlrec.cf.train import train
from ctrlrec.data import load

HERE = Path(__file__).resolve().parent
RECBOLE = {"biasmf": "bpr", "lightgcn": "lightgcn"}


def write_split(split, name: str, root: Path) -> Path:
    d = root / "data" / name
    d.mkdir(parents=True, exist_ok=True)
    for part in ("train", "valid", "test"):
        with open(d / f"{name}.{part}.inter", "w") as fh:
            fh.write("user_id:token\titem_id:token\n")
            fh.writelines(f"u{u}\ti{i}\n" for u, i in getattr(split, part).tolist())
    return root / "data"


def summary(history: list[dict], key: str = "recall@20") -> dict:
    best = max(history, key=lambda h: h[key])
    n = len(history)
    return {"epochs": n, "best_epoch": best["epoch"], "best_valid": best[key],
            "wall_to_best_s": best["wall_s"], "train_s_per_epoch": history[-1]["train_s"] / n,
            "wall_s_per_epoch": history[-1]["wall_s"] / n}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--models", nargs="+", default=["biasmf", "lightgcn"])
    ap.add_argument("--lr", type=float, default=5e-3)
    ap.add_argument("--batch-size", type=int, default=2048)
    ap.add_argument("--epochs", type=int, default=100)
    ap.add_argument("--patience", type=int, default=5)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    root = args.workdir or Path(tempfile.mkdtemp(prefix="cfbench-"))
    py, patches = recbole_venv(root)
    split = make_split(load(args.dataset), "random")
    name = f"ctrlrec-cf-{args.dataset}"
    data_path = write_split(split, name, root)
    out = {"dataset": args.dataset, "split": split.summary(), "patches": patches, "rows": []}
    for model in args.models:
        same = {"item_bias": False, "reg": 0.0} if model == "biasmf" else {}  # = RecBole's BPR
        cfg = CFConfig(dataset=args.dataset, model=model, split="random", lr=args.lr,
                       batch_size=args.batch_size, epochs=args.epochs, patience=args.patience,
                       threads=args.threads, device="cpu", init_std=0.0, **same)
        ours = train(cfg, root / f"ours-{model}", overwrite=True, progress=False)
        log = root / f"recbole-{model}.jsonl"
        log.unlink(missing_ok=True)
        spec = {"model": RECBOLE[model], "dataset": name, "data_path": str(data_path),
                "checkpoint_dir": str(root / "ckpt"), "dim": cfg.dim, "layers": cfg.layers,
                "reg": cfg.reg, "batch_size": cfg.batch_size, "lr": cfg.lr, "epochs": cfg.epochs,
                "patience": cfg.patience, "seed": cfg.seed, "threads": args.threads,
                "log": str(log)}
        (root / f"spec-{model}.json").write_text(json.dumps(spec))
        with open(root / f"recbole-{model}.log", "w") as fh:
            subprocess.run([str(py), str(HERE / "_recbole_cf_driver.py"),
                            str(root / f"spec-{model}.json")], check=True, stdout=fh, stderr=fh)
        recs = [json.loads(line) for line in log.read_text().splitlines()]
        epochs = [r for r in recs if r["event"] == "epoch"]
        done = next(r for r in recs if r["event"] == "done")
        row = {"model": model,
               "ctrlrec": {**summary(ours["history"]),
                           "test": {k: ours["test"][k] for k in ("recall@20", "ndcg@20")}},
               "recbole": {**summary(epochs),
                           "test": {"recall@20": done["test"]["recall@20"],
                                    "ndcg@20": done["test"]["ndcg@20"]}}}
        out["rows"].append(row)
        print(report(row), flush=True)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))


def report(row: dict) -> str:
    lines = [f"## {row['model']} vs RecBole {RECBOLE[row['model']]}",
             "| system | train s/epoch | wall s/epoch | epochs (best) | wall to best s | "
             "test R@20 | test N@20 |", "|---|---:|---:|---:|---:|---:|---:|"]
    for sys_name in ("ctrlrec", "recbole"):
        r = row[sys_name]
        lines.append(f"| {sys_name} | {r['train_s_per_epoch']:.2f} | {r['wall_s_per_epoch']:.2f} | "
                     f"{r['epochs']} ({r['best_epoch']}) | {r['wall_to_best_s']:.0f} | "
                     f"{r['test']['recall@20']:.4f} | {r['test']['ndcg@20']:.4f} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
