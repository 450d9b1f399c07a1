"""What every task builder needs about one dataset: titles, category masks, popularity, a ranker."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from ctrlrec.data import Dataset


class Ranker(Protocol):
    """Anything that ranks the whole catalog for a batch of histories (the teacher does)."""

    def ranking(self, histories: Sequence[Sequence[int]]) -> np.ndarray: ...


@dataclass
class PopularityRanker:
    """Ranks by training popularity, history items last: a real baseline and a teacher stand-in."""

    popularity: np.ndarray

    @classmethod
    def from_dataset(cls, ds: Dataset) -> PopularityRanker:
        counts = np.bincount(np.concatenate(ds.split.train), minlength=ds.n_items)
        return cls(counts.astype(np.float64))

    def ranking(self, histories):
        n = len(self.popularity)
        out = np.empty((len(histories), n), dtype=np.int64)
        base = np.argsort(-self.popularity, kind="stable")
        for b, h in enumerate(histories):
            seen = np.zeros(n, dtype=bool)
            seen[np.asarray(h, dtype=np.int64)] = True
            out[b] = np.concatenate([base[~seen[base]], np.flatnonzero(seen)])
        return out


class TaskContext:
    """Per-dataset lookups shared by the samplers and the test-set builder."""

    def __init__(self, ds: Dataset, ranker: Ranker, teacher_len: int = 50):
        self.ds = ds
        self.ranker = ranker
        self.teacher_len = teacher_len
        self.titles = ds.catalog["title"].tolist()
        self.item_categories = ds.catalog["categories"].tolist()
        self.categories = ds.categories
        self.cat_index = {c: j for j, c in enumerate(self.categories)}
        self.catmat = ds.category_matrix
        self.n_items = ds.n_items
        train = np.concatenate(ds.split.train) if ds.n_users else np.empty(0, np.int64)
        self.popularity = np.bincount(train, minlength=ds.n_items).astype(np.float64) + 1.0

    def in_category(self, category: str) -> np.ndarray:
        return self.catmat[self.cat_index[category]]

    def rankings(self, histories: list[np.ndarray]) -> np.ndarray:
        """[B, n_items] full rankings, best first."""
        return np.asarray(self.ranker.ranking([h[-self.teacher_len:].tolist() for h in histories]))

    def ranking_heads(self, histories: list[np.ndarray], top: int):
        """The first `top` items of each ranking, and a function giving row j's full ranking.

        With a ranker that exposes its scores (the SASRec teacher) this is a top-k instead of a
        full sort; the full ranking of a row is sorted from the same scores only when asked."""
        hs = [h[-self.teacher_len:].tolist() for h in histories]
        if top < self.n_items and hasattr(self.ranker, "scores"):
            import torch

            scores = self.ranker.scores(hs)
            heads = torch.topk(scores, top, dim=1).indices.cpu().numpy()

            def full(j: int) -> np.ndarray:
                return torch.sort(scores[j], descending=True, stable=True).indices.cpu().numpy()

            return heads, full
        ranks = np.asarray(self.ranker.ranking(hs))
        return ranks[:, :top], lambda j: ranks[j]

    def allowed(self, history: np.ndarray) -> np.ndarray:
        mask = np.ones(self.n_items, dtype=bool)
        mask[history] = False
        return mask

    def negative_category(self, ranking: np.ndarray, allowed: np.ndarray, target: int | None,
                          skip: tuple[str, ...] = (), top: int = 10) -> str | None:
        """The most frequent category of the teacher's top items, not one of the target's (ties:
        the more frequent category overall); None when there is none."""
        top_items = ranking[allowed[ranking]][:top]
        banned = set(self.item_categories[target]) if target is not None else set()
        banned |= set(skip)
        counts = self.catmat[:, top_items].sum(axis=1)
        for j in np.argsort(-counts, kind="stable"):
            if counts[j] == 0:
                break
            if self.categories[j] not in banned:
                return self.categories[j]
        return None
