"""The canonical dataset: a catalog table, an interactions table, and the leave-one-out split.

catalog:       item_id (dense int, 0..n_items-1), title (str), categories (list[str]), source_id
interactions:  user_id (dense int), item_id, timestamp (int seconds); sorted by user, then time
users:         user_id, source_id
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pandas as pd


@dataclass(frozen=True)
class LeaveOneOut:
    """Last item of each sequence is the test target, the one before it the validation target.

    Users with fewer than 3 interactions contribute training data only and are not evaluated.
    `train[u]` is the training part of user u's sequence (everything but the last two items).
    """

    train: list[np.ndarray]
    eval_users: np.ndarray
    valid_target: np.ndarray
    test_target: np.ndarray

    def valid_history(self, u: int) -> np.ndarray:
        """What a model may see when predicting user u's validation item."""
        return self.train[u]

    def test_history(self, u: int, sequences: list[np.ndarray]) -> np.ndarray:
        """What a model may see when predicting user u's test item: all but the last item."""
        return sequences[u][:-1]


@dataclass
class Dataset:
    name: str
    catalog: pd.DataFrame
    interactions: pd.DataFrame
    users: pd.DataFrame
    meta: dict = field(default_factory=dict)

    @property
    def n_users(self) -> int:
        return len(self.users)

    @property
    def n_items(self) -> int:
        return len(self.catalog)

    @cached_property
    def sequences(self) -> list[np.ndarray]:
        """Each user's items in time order (interactions are stored sorted)."""
        users = self.interactions["user_id"].to_numpy()
        items = self.interactions["item_id"].to_numpy().astype(np.int64)
        bounds = np.searchsorted(users, np.arange(self.n_users + 1))
        return [items[bounds[u] : bounds[u + 1]] for u in range(self.n_users)]

    @cached_property
    def split(self) -> LeaveOneOut:
        seqs = self.sequences
        lengths = np.fromiter((len(s) for s in seqs), dtype=np.int64, count=len(seqs))
        eval_users = np.flatnonzero(lengths >= 3)
        train = [s[:-2] if len(s) >= 3 else s for s in seqs]
        valid = np.array([seqs[u][-2] for u in eval_users], dtype=np.int64)
        test = np.array([seqs[u][-1] for u in eval_users], dtype=np.int64)
        return LeaveOneOut(train=train, eval_users=eval_users, valid_target=valid, test_target=test)

    @cached_property
    def categories(self) -> list[str]:
        """All categories, most frequent first (ties by name)."""
        counts = self.catalog["categories"].explode().dropna().value_counts()
        return sorted(counts.index, key=lambda c: (-counts[c], c))

    @cached_property
    def category_matrix(self) -> np.ndarray:
        """Boolean [n_categories, n_items]: item i belongs to category c (order of `categories`)."""
        index = {c: j for j, c in enumerate(self.categories)}
        mat = np.zeros((len(index), self.n_items), dtype=bool)
        for item, cats in zip(self.catalog["item_id"], self.catalog["categories"], strict=True):
            for c in cats:
                mat[index[c], item] = True
        return mat

    def titles(self) -> list[str]:
        return self.catalog["title"].tolist()
