"""Profile side vectors (`--side profiles`): LLM-written profiles through the text encoder.

Reads a `ctrlrec profiles build` run (users.jsonl, items.jsonl, manifest.json). A user's vector is
its profile's sentence vector; a user without a profile keeps the text vector (mean of its training
items' vectors). An item's vector is its text vector, averaged with its item-profile vector where it
has one (items with training interactions), then L2-normalised. The build must come from this run's
dataset, split kind and split seed, so the profiles saw only this split's training interactions.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch

from ctrlrec.errors import CtrlrecError


def _rows(path: Path, key: str) -> dict[int, str]:
    if not path.is_file():
        return {}
    out = {}
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            out[int(row[key])] = row["profile"]
    return out


def check_build(run: Path, cfg) -> dict:
    """The build's manifest, after checking that it was made for this dataset, split and seed."""
    mf = run / "manifest.json"
    if not (run / "users.jsonl").is_file() or not mf.is_file():
        raise CtrlrecError(f"--profiles {run}: expected a `ctrlrec profiles build` run (users.jsonl, "
                           "manifest.json)")
    made = json.loads(mf.read_text()).get("config", {})
    want = {"dataset": cfg.dataset, "split": cfg.split, "seed": cfg.seed_of_split()}
    if cfg.split == "cold-item":
        want["cold_share"] = cfg.cold_share
    bad = {k: made.get(k) for k, v in want.items() if made.get(k) != v}
    if bad:
        raise CtrlrecError(f"--profiles {run}: built for {bad}, expected {want}: profiles must be written "
                           "from this split's training interactions only (docs/profiles.md)")
    return made


def profile_vectors(cfg, ds, split, device: str = "cpu") -> tuple[torch.Tensor, torch.Tensor]:
    from ctrlrec.cf.text import encode, item_texts, user_vectors

    if not cfg.profiles:
        raise CtrlrecError("--side profiles: expected --profiles RUN (a `ctrlrec profiles build` run)")
    run = Path(cfg.profiles)
    check_build(run, cfg)
    items = encode(item_texts(ds.catalog), cfg.encoder, device=device)
    users = user_vectors(items, split.train, split.n_users)
    up, ip = _rows(run / "users.jsonl", "user"), _rows(run / "items.jsonl", "item")
    for ids, target in ((up, users), (ip, None)):
        keys = sorted(k for k in ids if 0 <= k < (split.n_users if target is not None else split.n_items))
        if not keys:
            continue
        vecs = encode([ids[k] for k in keys], cfg.encoder, device=device)
        idx = torch.tensor(keys)
        if target is not None:
            users[idx] = vecs
        else:
            items = items.clone()
            items[idx] = torch.nn.functional.normalize(items[idx] + vecs, dim=1)
    return users, items
