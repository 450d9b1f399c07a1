"""Train / validation / test splits of (user, item) pairs for the CF models.

Four kinds, each a `CFSplit` of interaction pairs:
- `random`:    each user's interactions shuffled and cut 80/10/10 (the usual split for CF models).
- `loo`:       the dataset's leave-one-out split (last item test, the one before validation).
- `snapshot`:  train on everything before a time cut-off, validate and test on what follows (as in
               RecLM); items first seen after the cut-off have no training interaction (zero-shot).
- `cold-item`: a held-out share of items (default 20%) loses all its interactions from training;
               half of them are validation items, half test items, and each is ranked among its own
               held-out items only (zero-shot ranking: no candidate has an ID the model has learned).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ctrlrec.errors import CtrlrecError

SPLITS = ("random", "loo", "snapshot", "cold-item")


@dataclass
class CFSplit:
    """Interaction pairs as int64 arrays [n, 2] of (user, item)."""

    kind: str
    n_users: int
    n_items: int
    train: np.ndarray
    valid: np.ndarray
    test: np.ndarray
    # Items a ranking may return at validation / test; None means every item.
    valid_candidates: np.ndarray | None = None
    test_candidates: np.ndarray | None = None

    @property
    def warm_items(self) -> np.ndarray:
        """Items with at least one training interaction (the only ones a training batch may hold)."""
        return np.unique(self.train[:, 1])

    @property
    def cold_items(self) -> np.ndarray:
        """Items with no training interaction: represented by their side vector alone."""
        seen = np.zeros(self.n_items, dtype=bool)
        seen[self.train[:, 1]] = True
        return np.flatnonzero(~seen)

    def summary(self) -> dict:
        return {"kind": self.kind, "users": self.n_users, "items": self.n_items,
                "train": len(self.train), "valid": len(self.valid), "test": len(self.test),
                "cold_items": len(self.cold_items)}


def _pairs(users, items) -> np.ndarray:
    return np.stack([np.asarray(users, np.int64), np.asarray(items, np.int64)], axis=1)


def random_split(users: np.ndarray, items: np.ndarray, n_users: int, n_items: int,
                 ratios=(0.8, 0.1, 0.1), seed: int = 2024) -> CFSplit:
    """Per user: shuffle, then cut by `ratios`; a user with 3+ interactions keeps 1+ in each part."""
    rng = np.random.default_rng(seed)
    order = np.lexsort((rng.random(len(users)), users))
    u, i = users[order], items[order]
    bounds = np.searchsorted(u, np.arange(n_users + 1))
    part = np.zeros(len(u), dtype=np.int8)
    for a, b in zip(bounds[:-1], bounds[1:], strict=True):
        n = b - a
        if n < 3:
            continue
        n_test = max(1, int(round(n * ratios[2])))
        n_valid = max(1, int(round(n * ratios[1])))
        part[b - n_test:b] = 2
        part[b - n_test - n_valid:b - n_test] = 1
    return CFSplit("random", n_users, n_items, _pairs(u[part == 0], i[part == 0]),
                   _pairs(u[part == 1], i[part == 1]), _pairs(u[part == 2], i[part == 2]))


def snapshot_split(users, items, times, n_users: int, n_items: int,
                   cut=(0.8, 0.9)) -> CFSplit:
    """Train before the time quantile cut[0], validate up to cut[1], test after it.

    Validation and test keep only users with a training interaction (a user first seen after the
    cut-off has nothing to rank from); their items may be new, which is the zero-shot case.
    """
    t1, t2 = np.quantile(times, cut[0]), np.quantile(times, cut[1])
    tr = times < t1
    va = (times >= t1) & (times < t2)
    te = times >= t2
    known = np.zeros(n_users, dtype=bool)
    known[users[tr]] = True
    va &= known[users]
    te &= known[users]
    return CFSplit("snapshot", n_users, n_items, _pairs(users[tr], items[tr]),
                   _pairs(users[va], items[va]), _pairs(users[te], items[te]))


def cold_item_split(users, items, n_users: int, n_items: int, share: float = 0.2,
                    seed: int = 2024) -> CFSplit:
    """Hold out `share` of the interacted items: half for validation, half for test."""
    if not 0 < share < 1:
        raise CtrlrecError(f"cold-item share {share}: expected a number between 0 and 1")
    rng = np.random.default_rng(seed)
    present = np.unique(items)
    held = rng.permutation(present)[: max(2, int(round(share * len(present))))]
    valid_items, test_items = np.sort(held[: len(held) // 2]), np.sort(held[len(held) // 2:])
    in_valid, in_test = np.isin(items, valid_items), np.isin(items, test_items)
    tr = ~(in_valid | in_test)
    return CFSplit("cold-item", n_users, n_items, _pairs(users[tr], items[tr]),
                   _pairs(users[in_valid], items[in_valid]), _pairs(users[in_test], items[in_test]),
                   valid_candidates=valid_items, test_candidates=test_items)


def loo_split(sequences: list[np.ndarray], n_items: int) -> CFSplit:
    """The dataset's leave-one-out split as pairs (users with < 3 interactions: training only)."""
    tr_u, tr_i, va, te = [], [], [], []
    for u, seq in enumerate(sequences):
        head = seq[:-2] if len(seq) >= 3 else seq
        tr_u.append(np.full(len(head), u))
        tr_i.append(head)
        if len(seq) >= 3:
            va.append((u, seq[-2]))
            te.append((u, seq[-1]))
    empty = np.zeros((0, 2), dtype=np.int64)
    return CFSplit("loo", len(sequences), n_items, _pairs(np.concatenate(tr_u), np.concatenate(tr_i)),
                   np.array(va, dtype=np.int64) if va else empty,
                   np.array(te, dtype=np.int64) if te else empty)


def make_split(ds, kind: str, seed: int = 2024, cold_share: float = 0.2) -> CFSplit:
    """The split `kind` of a prepared `ctrlrec.data.Dataset`."""
    inter = ds.interactions
    users = inter["user_id"].to_numpy().astype(np.int64)
    items = inter["item_id"].to_numpy().astype(np.int64)
    if kind == "random":
        return random_split(users, items, ds.n_users, ds.n_items, seed=seed)
    if kind == "loo":
        return loo_split(ds.sequences, ds.n_items)
    if kind == "snapshot":
        return snapshot_split(users, items, inter["timestamp"].to_numpy(), ds.n_users, ds.n_items)
    if kind == "cold-item":
        return cold_item_split(users, items, ds.n_users, ds.n_items, share=cold_share, seed=seed)
    raise CtrlrecError(f"--split {kind}: expected one of {', '.join(SPLITS)}")
