"""What every profile stage starts from: the split's training histories, item lines, neighbours and
round-2 samples. Only the split's training pairs are read, so profiles for a split never see what
that split holds out (the leakage rule, docs/profiles.md)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ctrlrec.errors import CtrlrecError
from ctrlrec.profiles import rounds
from ctrlrec.profiles.config import ProfilesConfig
from ctrlrec.profiles.neighbours import lightgcn_user_vectors, neighbours
from ctrlrec.profiles.prompts import ItemText


@dataclass
class ProfileContext:
    cfg: ProfilesConfig
    ds: object
    split: object
    text: ItemText
    histories: list[list[int]]
    neighbours: list[list[int]]
    source: list[str]  # per user: where the neighbours came from (cf, text, none)
    round2: dict[int, rounds.Round2]

    @property
    def users(self) -> list[int]:
        """Users with a training history (the first cfg.users of them when set)."""
        us = [u for u, h in enumerate(self.histories) if h]
        return us[: self.cfg.users] if self.cfg.users else us

    def eval_users(self) -> set[int]:
        """Users held out of tuning (seeded), among those with a round-2 sample."""
        cand = np.array(sorted(u for u in self.users if u in self.round2), dtype=np.int64)
        n = int(round(self.cfg.eval_share * len(cand)))
        rng = np.random.default_rng([self.cfg.seed, 7])
        return set(int(u) for u in rng.permutation(cand)[:n])

    def neighbour_histories(self, u: int) -> list[tuple[int, list[int]]]:
        return [(n, self.histories[n]) for n in self.neighbours[u]]


def histories_of(train: np.ndarray, n_users: int, interactions=None) -> list[list[int]]:
    """Each user's training items, oldest first when `interactions` (with timestamps) is given
    (the random split keeps a user's pairs in shuffled order)."""
    pairs = train
    if interactions is not None and len(train):
        n_items = int(max(train[:, 1].max(), interactions["item_id"].max())) + 1
        users = interactions["user_id"].to_numpy().astype(np.int64)
        keys = users * n_items + interactions["item_id"].to_numpy()
        times = interactions["timestamp"].to_numpy()
        order = np.argsort(keys, kind="stable")
        pos = np.searchsorted(keys[order], train[:, 0] * n_items + train[:, 1])
        t = times[order][np.clip(pos, 0, len(order) - 1)]
        pairs = train[np.lexsort((t, train[:, 0]))]
    out: list[list[int]] = [[] for _ in range(n_users)]
    for u, i in pairs.tolist():
        out[u].append(i)
    return out


def build_context(cfg: ProfilesConfig) -> ProfileContext:
    from ctrlrec.cf.splits import make_split
    from ctrlrec.cf.text import encode, item_texts, user_vectors
    from ctrlrec.data import load

    cfg.check()
    ds = load(cfg.dataset)
    split = make_split(ds, cfg.split, seed=cfg.seed, cold_share=cfg.cold_share)
    if len(split.train) == 0:
        raise CtrlrecError(f"{cfg.dataset} split {cfg.split}: no training interactions; expected some")
    hist = histories_of(split.train, split.n_users, ds.interactions)
    cf_vec = cf_has = None
    if cfg.cf_run:
        cf_vec, cf_has = lightgcn_user_vectors(cfg.cf_run, split)
    has = np.array([bool(h) for h in hist])
    text_vec = None
    if cf_has is None or (has & ~cf_has).any():
        items = encode(item_texts(ds.catalog), cfg.encoder)
        text_vec = user_vectors(items, split.train, split.n_users)
    nbrs, source = neighbours(split.n_users, cfg.m, cf_vec, cf_has, text_vec, has)
    return ProfileContext(cfg, ds, split, ItemText(ds.catalog), hist, nbrs, source,
                          rounds.draw_all(hist, nbrs, cfg.seed))
