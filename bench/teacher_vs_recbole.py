"""ctrlrec's SASRec teacher against RecBole 1.2.1's SASRec: same split, same hyper-parameters, CPU.

Produces docs/results.md, 'Teacher', rows 'ml-100k time to RecBole's best valid NDCG@10' and 'ml-1m
seconds an epoch' (RecBole's test figures are the anchor of the 'ml-100k test NDCG@10' row).

    PYTHONPATH=src python bench/teacher_vs_recbole.py [--datasets ml-100k ml-1m] [--sequential]

RecBole is installed into a temporary venv (torch==2.13.0 first, then `recbole==1.2.1 --no-deps`
and the modules it imports); small run-time incompatibilities with current numpy/torch are patched
in that copy only and listed in the output. RecBole gets our prepared interactions as an atomic
.inter file (timestamps = our order, its filtering off), leave-one-out 'LS' valid_and_test split,
'TO' order, full ranking; both sides mask the user's earlier items.

By default both trainings run at the same time, one CPU thread each, so that any other load on the
machine falls on both alike (on a small shared box, two 2-thread jobs in turn are measured under
different loads); --sequential runs them one after the other with --threads each.
Prints per system: seconds per epoch, best valid NDCG@10 and the wall time it was first reached,
test HR@10 / NDCG@10; then the time ctrlrec needs to reach RecBole's best valid NDCG@10.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from ctrlrec.data import load
from ctrlrec.teacher import Teacher, TeacherConfig
from ctrlrec.teacher.train import train

HERE = Path(__file__).resolve().parent
SHARED = dict(max_len=50, hidden=64, layers=2, heads=2, dropout=0.2, batch_size=256, lr=1e-3)


def _sh(*cmd: str) -> None:
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)


def recbole_venv(root: Path) -> tuple[Path, list[str]]:
    """A venv with RecBole 1.2.1; returns its python and the patches applied to its copy."""
    venv, py = root / "recbole-venv", root / "recbole-venv" / "bin" / "python"
    if not (venv / ".ready").exists():
        _sh(sys.executable, "-m", "venv", "--clear", str(venv))
        pip = [str(py), "-m", "pip", "install", "-q"]
        _sh(*pip, "torch==2.13.0")
        _sh(*pip, "--no-deps", "recbole==1.2.1")
        _sh(*pip, "numpy", "scipy", "pandas", "tqdm", "colorlog", "colorama", "tabulate",
            "texttable", "thop", "pyyaml", "scikit-learn")
        (venv / ".ready").write_text("")
    site = Path(subprocess.check_output([str(py), "-c", "import recbole,os;"
                                         "print(os.path.dirname(recbole.__file__))"], text=True)
                .strip())
    patches = []

    def patch(rel: str, old: str, new: str, why: str) -> None:
        f = site / rel
        text = f.read_text()
        if new not in text and old in text:
            f.write_text(text.replace(old, new))
        if new in f.read_text():
            patches.append(f"{rel}: {why}")

    patch("config/configurator.py", "np.float = np.float_", "np.float = np.float64",
          "numpy 2 removed np.float_ (RecBole's alias shim uses it)")
    patch("config/configurator.py", "np.complex = np.complex_", "np.complex = np.complex128",
          "numpy 2 removed np.complex_")
    patch("config/configurator.py", "np.unicode = np.unicode_", "np.unicode = np.str_",
          "numpy 2 removed np.unicode_")
    patch("utils/utils.py", "from torch.utils.tensorboard import SummaryWriter\n",
          "try:\n    from torch.utils.tensorboard import SummaryWriter\nexcept ImportError:\n"
          "    class SummaryWriter:  # bench patch: tensorboard not installed\n"
          "        def __init__(self, *a, **k): pass\n"
          "        def __getattr__(self, name): return lambda *a, **k: None\n",
          "tensorboard not installed: no-op SummaryWriter")
    patch("trainer/trainer.py", "torch.load(checkpoint_file, map_location=self.device)",
          "torch.load(checkpoint_file, map_location=self.device, weights_only=False)",
          "torch>=2.6 torch.load defaults to weights_only=True; RecBole's checkpoint holds "
          "a Config")
    patch("trainer/trainer.py", "torch.load(resume_file, map_location=self.device)",
          "torch.load(resume_file, map_location=self.device, weights_only=False)",
          "same, for resume_checkpoint")
    patch("model/general_recommender/lightgcn.py", "        A._update(data_dict)\n",
          "        for _key, _val in data_dict.items():  # bench patch\n            A[_key] = _val\n",
          "scipy removed dok_matrix._update (LightGCN's adjacency); entries set one by one")
    return py, patches


def write_atomic_inter(ds, root: Path) -> Path:
    """Our interactions as RecBole's atomic file; timestamp = row order (sorted by user, time)."""
    d = root / "data" / f"ctrlrec-{ds.name}"
    d.mkdir(parents=True, exist_ok=True)
    inter = ds.interactions
    with open(d / f"ctrlrec-{ds.name}.inter", "w") as fh:
        fh.write("user_id:token\titem_id:token\ttimestamp:float\n")
        rows = zip(inter["user_id"], inter["item_id"], range(len(inter)), strict=False)
        fh.writelines(f"u{u}\ti{i}\t{t}\n" for u, i, t in rows)
    return root / "data"


def first_reach(history: list[dict], key: str, level: float) -> tuple | None:
    """(epoch, wall seconds, CPU seconds) of the first epoch whose `key` reaches `level`."""
    for h in history:
        if h[key] >= level - 1e-12:
            return h["epoch"], h["wall_s"], h.get("cpu_s", float("nan"))
    return None


def api_latency(run: Path, ds, n: int = 1000) -> dict:
    teacher = Teacher.load(run, device="cpu")
    hs = [ds.sequences[u][:-1] for u in range(min(n, ds.n_users))]
    hs = (hs * (n // len(hs) + 1))[:n]
    out = {}
    for name, fn in [("topk10", lambda: teacher.topk(hs, 10)),
                     ("topk10_include", lambda: teacher.topk(hs, 10, include=ds.categories[0])),
                     ("ranking", lambda: teacher.ranking(hs)),
                     ("ranks", lambda: teacher.ranks(hs))]:
        fn()
        t0 = time.perf_counter()
        fn()
        out[name] = time.perf_counter() - t0
    return out


def bench(source: str, args, py: Path, root: Path) -> dict:
    ds = load(source)
    name = ds.name
    data_path = write_atomic_inter(ds, root)
    epochs = args.recbole_epochs if name == "ml-100k" else args.recbole_epochs_large
    log = root / f"recbole-{name}.jsonl"
    log.unlink(missing_ok=True)
    spec = {**SHARED, "dataset": f"ctrlrec-{ds.name}", "data_path": str(data_path),
            "checkpoint_dir": str(root / "ckpt"), "epochs": epochs, "patience": args.patience,
            "threads": args.threads, "seed": 2020, "log": str(log), "n_items": ds.n_items,
            "eval_users": 256}
    (root / f"spec-{name}.json").write_text(json.dumps(spec))
    our_epochs = args.epochs if name == "ml-100k" else (args.epochs_large or args.epochs)
    cfg = TeacherConfig(dataset=source, **SHARED, loss="ce", threads=args.threads,
                        epochs=our_epochs, patience=args.ours_patience, device="cpu",
                        precision="fp32", windows=args.windows, stride=args.stride)
    run = root / f"ctrlrec-{name}"

    def ours() -> dict:
        return train(cfg, run, ds=ds, overwrite=True, progress=False,
                     on_epoch=lambda r: print(f"  [ctrlrec {name}] epoch {r['epoch']} "
                                              f"valid NDCG@10 {r['valid_ndcg@10']:.4f} "
                                              f"at {r['wall_s']:.0f}s", flush=True))

    def theirs() -> None:
        with open(root / f"recbole-{name}.log", "w") as fh:
            subprocess.run([str(py), str(HERE / "_recbole_driver.py"),
                            str(root / f"spec-{name}.json")], cwd=root, stdout=fh,
                           stderr=subprocess.STDOUT, check=True)

    load_before = os.getloadavg()
    result: dict = {}
    if args.sequential:
        theirs()
        result = ours()
    else:
        th = threading.Thread(target=lambda: result.update(ours()))
        th.start()
        theirs()
        th.join()
    recs = [json.loads(x) for x in log.read_text().splitlines()]
    rb_hist = [r for r in recs if r["event"] == "epoch"]
    rb_done = next(r for r in recs if r["event"] == "done")
    rb_best = max(rb_hist, key=lambda r: r["valid_ndcg@10"])
    rb_reach = first_reach(rb_hist, "valid_ndcg@10", rb_best["valid_ndcg@10"])
    our_hist = result["history"]
    our_best = max(h["valid_ndcg@10"] for h in our_hist)
    our_reach_own = first_reach(our_hist, "valid_ndcg@10", our_best)
    our_reach_rb = first_reach(our_hist, "valid_ndcg@10", rb_best["valid_ndcg@10"])
    return {
        "dataset": name, "n_users": ds.n_users, "n_items": ds.n_items,
        "loadavg_before": load_before, "loadavg_after": os.getloadavg(),
        "recbole": {
            "epochs": len(rb_hist),
            "train_s_per_epoch": float(np.mean([h["train_s"] for h in rb_hist])),
            "epoch_s": rb_hist[-1]["wall_s"] / len(rb_hist),
            "best_valid_ndcg@10": rb_best["valid_ndcg@10"], "best_epoch": rb_reach[0],
            "best_wall_s": rb_reach[1], "best_cpu_s": rb_reach[2],
            "test_hr@10": rb_done["test"]["hit@10"],
            "test_ndcg@10": rb_done["test"]["ndcg@10"], "history": rb_hist},
        "ctrlrec": {
            "epochs": len(our_hist), "train_s_per_epoch": result["train_s_per_epoch"],
            "epoch_s": result["epoch_s"], "best_valid_ndcg@10": our_best,
            "best_epoch": our_reach_own[0], "best_wall_s": our_reach_own[1],
            "best_cpu_s": our_reach_own[2],
            "test_hr@10": result["test"]["hr@10"], "test_ndcg@10": result["test"]["ndcg@10"],
            "test": result["test"], "popularity": result["popularity"],
            "reach_recbole_best": our_reach_rb, "history": our_hist},
        "speedup_to_recbole_best": (rb_reach[1] / our_reach_rb[1]) if our_reach_rb else None,
        "cpu_speedup_to_recbole_best": (rb_reach[2] / our_reach_rb[2]) if our_reach_rb else None,
        "api_latency_1000_s": api_latency(run, ds),
    }


def report(r: dict) -> str:
    rb, us = r["recbole"], r["ctrlrec"]
    lines = [f"== {r['dataset']} ({r['n_users']} users, {r['n_items']} items); "
             f"load average before/after {r['loadavg_before'][0]:.1f}/{r['loadavg_after'][0]:.1f}",
             f"{'':10}{'s/epoch':>9}{'train s/ep':>11}{'epochs':>7}{'best vNDCG@10':>14}"
             f"{'at epoch':>9}{'at wall s':>10}{'test HR@10':>11}{'test NDCG@10':>13}"]
    for name, s in (("RecBole", rb), ("ctrlrec", us)):
        lines.append(f"{name:10}{s['epoch_s']:9.1f}{s['train_s_per_epoch']:11.1f}{s['epochs']:7d}"
                     f"{s['best_valid_ndcg@10']:14.4f}{s['best_epoch']:9d}{s['best_wall_s']:10.0f}"
                     f"{s['test_hr@10']:11.4f}{s['test_ndcg@10']:13.4f}")
    pop = us["popularity"]
    lines.append(f"{'popularity':10}{'':70}{pop['hr@10']:11.4f}{pop['ndcg@10']:13.4f}")
    if us["reach_recbole_best"]:
        ep, wall, cpu = us["reach_recbole_best"]
        lines.append(f"ctrlrec reaches RecBole's best valid NDCG@10 "
                     f"({rb['best_valid_ndcg@10']:.4f}) at epoch {ep}: wall {wall:.0f} s vs "
                     f"{rb['best_wall_s']:.0f} s ({r['speedup_to_recbole_best']:.1f}x sooner), "
                     f"CPU {cpu:.0f} s vs {rb['best_cpu_s']:.0f} s "
                     f"({r['cpu_speedup_to_recbole_best']:.1f}x)")
    else:
        lines.append("ctrlrec never reached RecBole's best valid NDCG@10")
    lines.append(f"test NDCG@10 ctrlrec - RecBole = {us['test_ndcg@10'] - rb['test_ndcg@10']:+.4f}")
    lat = r["api_latency_1000_s"]
    lines.append("Teacher API, 1000 histories: " + ", ".join(f"{k} {v * 1000:.0f} ms"
                                                            for k, v in lat.items()))
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--datasets", nargs="+", default=["ml-100k", "ml-1m"])
    ap.add_argument("--recbole-epochs", type=int, default=30, help="RecBole's cap on ml-100k")
    ap.add_argument("--recbole-epochs-large", type=int, default=1, help="RecBole's cap elsewhere")
    ap.add_argument("--patience", type=int, default=5, help="RecBole's early-stopping patience")
    ap.add_argument("--epochs", type=int, default=200, help="ctrlrec's cap")
    ap.add_argument("--epochs-large", type=int, default=0,
                    help="ctrlrec's cap outside ml-100k (0 = --epochs)")
    ap.add_argument("--windows", default=TeacherConfig.windows,
                    help="ctrlrec's training windows (default: the teacher's own default)")
    ap.add_argument("--stride", type=int, default=TeacherConfig.stride,
                    help="ctrlrec's stride for --windows stride")
    ap.add_argument("--ours-patience", type=int, default=10, help="ctrlrec's patience")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per system")
    ap.add_argument("--sequential", action="store_true", help="run the two one after the other")
    ap.add_argument("--workdir", type=Path, default=None, help="keep the venv/runs here")
    ap.add_argument("--json", type=Path, default=None, help="also write all results here")
    args = ap.parse_args()
    root = args.workdir or Path(tempfile.mkdtemp(prefix="ctrlrec-bench-"))
    root.mkdir(parents=True, exist_ok=True)
    py, patches = recbole_venv(root)
    print(f"RecBole venv: {py.parent.parent}\npatches applied to that copy of RecBole:")
    print("\n".join(f"  - {p}" for p in patches) or "  (none)")
    print(f"mode: {'sequential' if args.sequential else 'concurrent'}, {args.threads} thread(s)"
          f" each; shared: {SHARED}, CE loss, full ranking, history masked; ctrlrec windows: "
          f"{args.windows}" + (f" (stride {args.stride})" if args.windows == "stride" else ""),
          flush=True)
    results = []
    for name in args.datasets:
        r = bench(name, args, py, root)
        results.append(r)
        print(report(r), flush=True)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps({"patches": patches, "results": results}, indent=1))


if __name__ == "__main__":
    main()
