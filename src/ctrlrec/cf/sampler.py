"""Training batches: each training pair with one negative item drawn uniformly from warm items.

Negatives come only from items with a training interaction, so an item held out of training (a cold
item) never appears in a batch, as a positive or a negative.
"""

from __future__ import annotations

import numpy as np


class BPRSampler:
    def __init__(self, train: np.ndarray, n_items: int, seed: int = 2024, retries: int = 100):
        self.train = np.asarray(train, dtype=np.int64)
        self.n_items = n_items
        self.items = np.unique(self.train[:, 1])
        self.keys = np.unique(self.train[:, 0] * n_items + self.train[:, 1])
        self.retries = retries
        self.rng = np.random.default_rng(seed)

    def _is_positive(self, users: np.ndarray, items: np.ndarray) -> np.ndarray:
        """Whether each (user, item) is a training pair: a binary search in the sorted keys."""
        q = users * self.n_items + items
        at = np.minimum(np.searchsorted(self.keys, q), len(self.keys) - 1)
        return self.keys[at] == q

    def _negatives(self, users: np.ndarray) -> np.ndarray:
        neg = self.items[self.rng.integers(len(self.items), size=len(users))]
        bad = np.flatnonzero(self._is_positive(users, neg))
        for _ in range(self.retries):
            # Redraw the negatives that are in fact positives of their user; only those are checked
            # again, so each pass costs what is left (a few percent, then a few per mille, ...).
            if len(bad) == 0:
                break
            neg[bad] = self.items[self.rng.integers(len(self.items), size=len(bad))]
            bad = bad[self._is_positive(users[bad], neg[bad])]
        return neg

    def epoch(self, batch_size: int):
        """Yield (users, positives, negatives) int64 arrays covering every training pair once."""
        order = self.rng.permutation(len(self.train))
        pairs = self.train[order]
        neg = self._negatives(pairs[:, 0])
        for a in range(0, len(pairs), batch_size):
            yield pairs[a:a + batch_size, 0], pairs[a:a + batch_size, 1], neg[a:a + batch_size]

    def n_batches(self, batch_size: int) -> int:
        return -(-len(self.train) // batch_size)

    def state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> None:
        self.rng.bit_generator.state = state
