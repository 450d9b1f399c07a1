"""Training the teacher: causal next-item prediction at every position of a window in one pass.

Each training sequence (the split's train part) is cut into windows of max_len+1 items,
right-aligned; inputs are window[:-1], targets window[1:], and every non-padding position
contributes one prediction. (RecBole instead expands a sequence into all its prefixes and predicts
only the last item of each, which costs max_len times more forward passes for the same targets.)
After each epoch: full-ranking NDCG@10 on the valid split, the best weights saved, a checkpoint
for --resume, and early stopping after `patience` epochs without improvement.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from tqdm.auto import tqdm

from ctrlrec.atomic import write_json
from ctrlrec.data import Dataset, load
from ctrlrec.errors import CtrlrecError
from ctrlrec.manifest import manifest
from ctrlrec.teacher import checkpoint as ckpt
from ctrlrec.teacher.api import Teacher
from ctrlrec.teacher.config import Runtime, TeacherConfig
from ctrlrec.teacher.evaluate import evaluate_with_floor, metrics, split_histories, target_ranks
from ctrlrec.teacher.sasrec import SASRec


def make_windows(seqs: Sequence[np.ndarray], max_len: int, mode: str,
                 rng: np.random.Generator, stride: int = 10) -> np.ndarray:
    """[N, max_len+1] right-aligned windows of +1-shifted item ids (0 = padding).

    With mode 'stride' a target that another window learns with more context is stored negated:
    it is still an input here, but not a target (`batch_loss` reads inputs as absolute values).
    """
    width = max_len + 1
    picked: list[tuple[np.ndarray, int, int]] = []  # (sequence, end, first target index learned)
    for s in seqs:
        n = len(s)
        if n < 2:
            continue
        if mode == "last":
            ends = [n]
        elif mode == "random":
            ends = [int(rng.integers(min(n, width), n + 1))]
        else:  # chunks / stride: every target once; a random offset r shifts the older cut points
            step = max_len if mode == "chunks" else min(stride, max_len)
            ends = [n]
            e = n - int(rng.integers(1, step + 1))
            while e >= 2:
                ends.append(e)
                e -= step
        firsts = ends[1:] + [1] if mode == "stride" else [0] * len(ends)
        picked.extend((s, e, f) for e, f in zip(ends, firsts, strict=True))
    out = np.zeros((len(picked), width), dtype=np.int64)
    for row, (s, e, first) in enumerate(picked):
        start = max(0, e - width)
        w = s[start:e] + 1
        if first > start:  # targets before `first` are learnt in the window that ends there
            w[: first - start] *= -1
        out[row, width - len(w):] = w
    return out


def batch_loss(model: SASRec, win: torch.Tensor, cfg: TeacherConfig) -> torch.Tensor:
    inp, tgt = win[:, :-1].abs(), win[:, 1:]
    h = model(inp)
    keep = (inp != 0) & (tgt > 0)  # right-aligned: a real input has a real target; < 0: not learnt
    hv, tv = h[keep], tgt[keep]
    if cfg.loss == "ce":
        return F.cross_entropy(model.logits(hv).float(), tv - 1)
    neg = torch.randint(1, model.n_items + 1, (len(tv), cfg.negatives), device=tv.device)
    neg = torch.where(neg == tv[:, None], neg % model.n_items + 1, neg)
    pos_logit = (hv * model.item_emb(tv)).sum(-1).float()
    neg_logit = (hv[:, None, :] * model.item_emb(neg)).sum(-1).float()
    return (F.binary_cross_entropy_with_logits(pos_logit, torch.ones_like(pos_logit))
            + F.binary_cross_entropy_with_logits(neg_logit, torch.zeros_like(neg_logit)))


def _seed_epoch(cfg: TeacherConfig, epoch: int) -> np.random.Generator:
    # Seeding from (seed, epoch) makes epoch e identical whether or not the run was resumed.
    torch.manual_seed(cfg.seed * 100_003 + epoch)
    return np.random.default_rng([cfg.seed, epoch])


def check_trainable(ds: Dataset) -> None:
    """Refuse a dataset with no user of >= 3 items: no validation or test target to select or score by."""
    n = sum(len(s) >= 3 for s in ds.sequences)
    if n == 0:
        raise CtrlrecError(
            f"dataset '{ds.name}' has no user with >= 3 interactions ({len(ds.sequences)} users, "
            f"{len(ds.interactions)} interactions): leave-one-out needs a training, a validation and "
            f"a test item per user; prepare it from more data (users of >= 3: --user-core 3)")


def train(cfg: TeacherConfig, out: str | Path, ds: Dataset | None = None, resume: bool = False,
          overwrite: bool = False, progress: bool = True,
          on_epoch: Callable[[dict], None] | None = None) -> dict:
    """Train (or resume) a teacher into run directory `out`; returns its metrics.json content."""
    run = Path(out)
    if not resume and not overwrite and (run / "checkpoint").exists():
        raise CtrlrecError(f"{run} already holds a teacher run; pass --resume to continue it, "
                           f"--overwrite to start again, or choose another --out")
    ds = ds if ds is not None else load(cfg.dataset)
    check_trainable(ds)
    rt = Runtime.resolve(cfg.device, cfg.precision, cfg.threads)
    torch.manual_seed(cfg.seed)
    model = SASRec(ds.n_items, cfg).to(rt.device)
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    state = {"epoch": 0, "best_ndcg10": -1.0, "best_epoch": -1, "bad_epochs": 0,
             "elapsed_s": 0.0, "cpu_s": 0.0, "history": []}
    if resume:
        state = ckpt.load_checkpoint(run, model, opt)
    else:
        ckpt.write_run_files(run, cfg, ds.n_items, ds.name, ds.categories, ds.category_matrix)
    teacher = Teacher(model, cfg, rt)
    valid_h, valid_t = split_histories(ds, "valid")
    stopped = state["bad_epochs"] >= cfg.patience

    bar = tqdm(total=cfg.epochs, initial=state["epoch"], desc=f"teacher {ds.name}", unit="epoch",
               disable=not progress or stopped, dynamic_ncols=True)
    t_start = time.perf_counter() - state["elapsed_s"]
    # CPU seconds of this process: on a shared, overloaded CPU a fairer clock than the wall.
    c_start = time.process_time() - state.get("cpu_s", 0.0)
    for epoch in range(state["epoch"], cfg.epochs):
        if stopped:
            break
        t0 = time.perf_counter()
        rng = _seed_epoch(cfg, epoch)
        win = make_windows(ds.split.train, cfg.max_len, cfg.windows, rng, cfg.stride)
        win = torch.from_numpy(win[rng.permutation(len(win))]).to(rt.device)
        model.train()
        total, steps = 0.0, 0
        for s in tqdm(range(0, len(win), cfg.batch_size), desc=f"epoch {epoch + 1}", unit="batch",
                      leave=False, disable=not progress, dynamic_ncols=True):
            with rt.autocast():
                loss = batch_loss(model, win[s:s + cfg.batch_size], cfg)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, steps = total + loss.item(), steps + 1
        t_train = time.perf_counter() - t0
        model.eval()
        valid = metrics(target_ranks(teacher, valid_h, valid_t, cfg.eval_batch))
        rec = {"epoch": epoch + 1, "loss": total / max(steps, 1), "valid_ndcg@10": valid["ndcg@10"],
               "valid_hr@10": valid["hr@10"], "train_s": t_train,
               "epoch_s": time.perf_counter() - t0, "wall_s": time.perf_counter() - t_start,
               "cpu_s": time.process_time() - c_start}
        state["history"].append(rec)
        if valid["ndcg@10"] > state["best_ndcg10"]:
            state.update(best_ndcg10=valid["ndcg@10"], best_epoch=epoch + 1, bad_epochs=0,
                         best_valid=valid)
            ckpt.save_weights(run / "model.safetensors", model.state_dict())
        else:
            state["bad_epochs"] += 1
        state["epoch"] = epoch + 1
        state["elapsed_s"] = time.perf_counter() - t_start
        state["cpu_s"] = time.process_time() - c_start
        ckpt.save_checkpoint(run, model, opt, state)
        bar.set_postfix(loss=f"{rec['loss']:.3f}", ndcg10=f"{valid['ndcg@10']:.4f}",
                        best=f"{state['best_ndcg10']:.4f}@{state['best_epoch']}")
        bar.update(1)
        if on_epoch:
            on_epoch(rec)
        stopped = state["bad_epochs"] >= cfg.patience
    bar.close()

    if state["best_epoch"] < 0:
        raise CtrlrecError(f"{run}: no epoch finished; nothing to evaluate")
    model.load_state_dict(ckpt.load_weights(run / "model.safetensors"))
    model.eval()
    test = evaluate_with_floor(teacher, ds, "test", cfg.eval_batch)
    hist = state["history"]
    result = {
        "dataset": ds.name, "n_items": ds.n_items, "eval_users": test["users"],
        "best_epoch": state["best_epoch"], "epochs_run": state["epoch"],
        "best_valid": state.get("best_valid", {}),
        "best_valid_wall_s": next(h["wall_s"] for h in hist if h["epoch"] == state["best_epoch"])
        if any(h["epoch"] == state["best_epoch"] for h in hist) else None,
        "train_s_per_epoch": float(np.mean([h["train_s"] for h in hist])) if hist else None,
        "epoch_s": float(np.mean([h["epoch_s"] for h in hist])) if hist else None,
        "elapsed_s": state["elapsed_s"],
        "test": test["sasrec"], "popularity": test["popularity"], "history": hist,
        "device": str(rt.device), "dtype": str(rt.dtype).replace("torch.", ""),
    }
    write_json(run / "metrics.json", result)
    write_json(run / "manifest.json", manifest("teacher", cfg.to_dict(), cfg.seed,
                                               dataset=ds.name, n_items=ds.n_items))
    return result
