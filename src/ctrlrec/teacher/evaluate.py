"""Full-ranking evaluation (HR/NDCG@5/10/20, earlier items masked) and a popularity floor.

Every catalog item is a candidate (no sampled negatives). A target's rank is the number of
candidates scored strictly higher; the user's earlier items are never candidates (so a target the
user had already seen counts as a miss, rank n_items).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

import numpy as np
import torch

from ctrlrec.data import Dataset

KS = (5, 10, 20)


class Scorer(Protocol):
    def scores(self, histories: Sequence[Sequence[int]]) -> torch.Tensor: ...


class Popularity:
    """Scores items by how often they occur in the training sequences (ties: lower id first)."""

    def __init__(self, train: Sequence[np.ndarray], n_items: int):
        counts = np.bincount(np.concatenate([np.asarray(s) for s in train]), minlength=n_items)
        # A tiny id-based tie-break keeps the ranking deterministic.
        self._scores = torch.as_tensor(counts - np.arange(n_items) * 1e-9, dtype=torch.float64)
        self.n_items = n_items

    def scores(self, histories: Sequence[Sequence[int]]) -> torch.Tensor:
        out = self._scores.expand(len(histories), -1).clone()
        for b, h in enumerate(histories):
            out[b, np.asarray(h, dtype=np.int64)] = -torch.inf
        return out


def split_histories(ds: Dataset, split: str) -> tuple[list[np.ndarray], np.ndarray]:
    """(histories, targets) of the evaluated users for 'valid' or 'test'."""
    sp = ds.split
    if split == "valid":
        return [sp.train[u] for u in sp.eval_users], sp.valid_target
    if split == "test":
        return [ds.sequences[u][:-1] for u in sp.eval_users], sp.test_target
    raise ValueError(f"split: expected 'valid' or 'test', got {split!r}")


def target_ranks(scorer: Scorer, histories: Sequence[np.ndarray], targets: np.ndarray,
                 batch: int = 1024) -> np.ndarray:
    """0-based full-ranking rank of each target among all items (history masked)."""
    out = np.empty(len(targets), dtype=np.int64)
    for s in range(0, len(targets), batch):
        sc = scorer.scores(histories[s:s + batch])
        tgt = torch.as_tensor(targets[s:s + batch], device=sc.device)
        t = sc.gather(1, tgt[:, None])
        r = (sc > t).sum(1)
        # A target that is also an earlier item is masked (-inf): it can never be recommended.
        r[torch.isinf(t[:, 0])] = sc.shape[1]
        out[s:s + batch] = r.cpu().numpy()
    return out


def metrics(ranks: np.ndarray, ks: Sequence[int] = KS) -> dict[str, float]:
    """HR@k and NDCG@k (one relevant item) from 0-based ranks."""
    res = {}
    for k in ks:
        hit = ranks < k
        res[f"hr@{k}"] = float(hit.mean()) if len(ranks) else 0.0
        res[f"ndcg@{k}"] = float(np.where(hit, 1.0 / np.log2(ranks + 2.0), 0.0).mean()) \
            if len(ranks) else 0.0
    return res


def evaluate(scorer: Scorer, ds: Dataset, split: str = "test", batch: int = 1024) -> dict:
    hs, targets = split_histories(ds, split)
    return metrics(target_ranks(scorer, hs, targets, batch))


def evaluate_with_floor(scorer: Scorer, ds: Dataset, split: str = "test",
                        batch: int = 1024) -> dict[str, dict]:
    """Metrics of `scorer` and of the popularity baseline on the same split."""
    pop = Popularity(ds.split.train, ds.n_items)
    return {"sasrec": evaluate(scorer, ds, split, batch),
            "popularity": evaluate(pop, ds, split, batch),
            "users": len(ds.split.eval_users)}
