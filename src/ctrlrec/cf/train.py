"""The shared trainer: data and side vectors -> model -> BPR epochs -> early stopping -> test.

One straight function (`train`) as in RecBole; every model differs only in its own file.
"""

from __future__ import annotations

import json
import math
import time
from pathlib import Path

import numpy as np
import torch
from tqdm.auto import tqdm

from ctrlrec.atomic import write_json
from ctrlrec.cf.checkpoint import load_checkpoint, load_weights, pairs_sha, save_checkpoint, save_weights
from ctrlrec.cf.config import CFConfig
from ctrlrec.cf.metrics import evaluate, group_by_user
from ctrlrec.cf.models import build
from ctrlrec.cf.sampler import BPRSampler
from ctrlrec.cf.splits import CFSplit, make_split
from ctrlrec.errors import CtrlrecError
from ctrlrec.manifest import manifest


def pick_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise CtrlrecError(f"--device {name}: CUDA is not available; expected cpu or auto")
    return torch.device(name)


def side_vectors(cfg: CFConfig, ds, split: CFSplit, device: str = "cpu"):
    """(user vectors, item vectors) for `cfg.side`; (None, None) without side embeddings."""
    if cfg.side == "none":
        return None, None
    if cfg.side == "profiles":
        from ctrlrec.cf.profile_side import profile_vectors

        return profile_vectors(cfg, ds, split, device=device)
    if cfg.side != "text":
        raise CtrlrecError(f"--side {cfg.side}: expected none, text or profiles")
    from ctrlrec.cf.text import encode, item_texts, user_vectors

    items = encode(item_texts(ds.catalog), cfg.encoder, device=device)
    return user_vectors(items, split.train, split.n_users), items


def prepare(cfg: CFConfig):
    """The dataset, its split and the side vectors of a config."""
    from ctrlrec.data import load

    ds = load(cfg.dataset)
    split = make_split(ds, cfg.split, seed=cfg.seed_of_split(), cold_share=cfg.cold_share)
    if len(split.train) == 0 or len(split.valid) == 0:
        raise CtrlrecError(f"{cfg.dataset} split {cfg.split}: expected training and validation "
                           f"interactions, got {split.summary()}")
    return ds, split, *side_vectors(cfg, ds, split)


class Evaluator:
    """Validation and test metrics of a split; known items (training, and validation at test
    time) are masked, candidates restricted where the split says so."""

    def __init__(self, split: CFSplit):
        self.split = split
        n = split.n_users
        self.train = group_by_user(split.train, n)
        self.known_test = group_by_user(np.concatenate([split.train, split.valid]), n)
        self.valid = group_by_user(split.valid, n)
        self.test = group_by_user(split.test, n)

    def __call__(self, model, which: str) -> dict[str, float]:
        s = self.split
        model.eval()
        model.prepare_eval()
        if which == "valid":
            res = evaluate(model.score_users, self.valid, self.train, s.n_items, s.valid_candidates)
        else:
            res = evaluate(model.score_users, self.test, self.known_test, s.n_items,
                           s.test_candidates)
        model.clear_eval()
        return res


def train(cfg: CFConfig, run: Path, resume: bool = False, overwrite: bool = False,
          progress: bool = True) -> dict:
    run = Path(run)
    if (run / "metrics.json").is_file() and not (resume or overwrite):
        raise CtrlrecError(f"{run}: holds a finished run; expected --overwrite, --resume or "
                           f"another --out")
    if (run / "config.json").is_file() and not (resume or overwrite) and \
            (run / "checkpoint").is_dir():
        raise CtrlrecError(f"{run}: holds an interrupted run; expected --resume or --overwrite")
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    device = pick_device(cfg.device)
    torch.manual_seed(cfg.seed)
    ds, split, user_side, item_side = prepare(cfg)
    model = build(cfg, split.n_users, split.n_items, split.train, user_side, item_side).to(device)
    opt = torch.optim.Adam(model.parameters(), lr=cfg.lr)
    sampler = BPRSampler(split.train, split.n_items, seed=cfg.seed)
    epoch_rng = np.random.default_rng(cfg.seed + 1)
    evaluator = Evaluator(split)
    state = {"epoch": 0, "best": -math.inf, "best_epoch": 0, "bad": 0, "history": [],
             "train_s": 0.0}
    sha = pairs_sha(split.train)
    if resume and (run / "checkpoint").is_dir():
        saved = json.loads((run / "config.json").read_text())
        if saved.get("train_sha256") != sha:
            raise CtrlrecError(f"{run}: its training split differs from this dataset's; expected "
                               "the dataset the run was started on")
        state = load_checkpoint(run, model, opt)
        sampler.set_state(state.pop("sampler"))
        epoch_rng.bit_generator.state = state.pop("epoch_rng")
    else:
        write_json(run / "config.json", {"config": cfg.to_dict(), "split": split.summary(),
                                         "train_sha256": sha})
        write_json(run / "manifest.json", manifest("cf", cfg.to_dict(), seed=cfg.seed))
    metric = cfg.valid_metric
    t_start = time.perf_counter() - state.get("wall_s", 0.0)
    bar = tqdm(total=cfg.epochs, initial=state["epoch"], desc=f"{cfg.model} {cfg.split}",
               unit="epoch", disable=not progress, dynamic_ncols=True)
    while state["epoch"] < cfg.epochs and state["bad"] < cfg.patience:
        model.train()
        model.epochs_seen = state["epoch"]
        model.on_epoch(epoch_rng)
        t0, total, n = time.perf_counter(), 0.0, 0
        for u, p, q in sampler.epoch(cfg.batch_size):
            u, p, q = (torch.from_numpy(x).to(device) for x in (u, p, q))
            parts = model.loss(u, p, q)
            loss = sum(parts.values())
            opt.zero_grad(set_to_none=True)
            loss.backward()
            opt.step()
            total, n = total + float(loss.detach()), n + 1
        state["train_s"] += time.perf_counter() - t0
        state["epoch"] += 1
        valid = evaluator(model, "valid")
        state["wall_s"] = time.perf_counter() - t_start
        state["history"].append({"epoch": state["epoch"], "loss": total / max(n, 1),
                                 "train_s": state["train_s"], "wall_s": state["wall_s"], **valid})
        if valid[metric] > state["best"]:
            state.update(best=valid[metric], best_epoch=state["epoch"], bad=0)
            save_weights(run / "model.safetensors", model.state_dict())
        else:
            state["bad"] += 1
        save_checkpoint(run, model, opt, {**state, "sampler": sampler.state(),
                                          "epoch_rng": epoch_rng.bit_generator.state})
        bar.update(1)
        bar.set_postfix(loss=f"{total / max(n, 1):.4f}", **{metric: f"{valid[metric]:.4f}"},
                        best=f"{state['best']:.4f}@{state['best_epoch']}")
    bar.close()
    model.load_state_dict(load_weights(run / "model.safetensors"))
    test = evaluator(model, "test")
    best_valid = state["history"][state["best_epoch"] - 1]
    res = {"config": cfg.to_dict(), "split": split.summary(), "best_epoch": state["best_epoch"],
           "epochs_run": state["epoch"], "train_s": state["train_s"],
           "wall_s": state.get("wall_s", 0.0),
           "s_per_epoch": state["train_s"] / max(state["epoch"], 1), "device": str(device),
           "valid": best_valid, "test": test, "history": state["history"]}
    write_json(run / "metrics.json", res)
    return res


def load_run(run: Path, device: str = "cpu"):
    """(config, split, model with its best weights) of a finished or interrupted run."""
    run = Path(run)
    meta = run / "config.json"
    if not meta.is_file():
        raise CtrlrecError(f"{run}: no config.json; expected a CF run directory")
    saved = json.loads(meta.read_text())
    cfg = CFConfig.from_dict(saved["config"])
    from ctrlrec.data import load

    ds = load(cfg.dataset)
    split = make_split(ds, cfg.split, seed=cfg.seed_of_split(), cold_share=cfg.cold_share)
    if pairs_sha(split.train) != saved.get("train_sha256"):
        raise CtrlrecError(f"{run}: dataset {cfg.dataset} gives another training split than the "
                           "run was trained on; expected the same prepared dataset")
    weights = load_weights(run / "model.safetensors")
    model = build(cfg, split.n_users, split.n_items, split.train,
                  weights.get("users.side.vectors"), weights.get("items.side.vectors"))
    model.load_state_dict(weights)
    return cfg, split, model.to(pick_device(device))
