"""A tiny real-shaped dataset built in memory for the task tests."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctrlrec.data.build import FilterConfig, InteractionBuilder, canonicalize

GENRES = ["Comedy", "Drama", "Horror", "Action", "Romance"]


def tiny_dataset(n_users: int = 40, n_items: int = 60, seed: int = 0):
    rng = np.random.default_rng(seed)
    items = pd.DataFrame({
        "source_id": [f"m{j}" for j in range(n_items)],
        "title": [f"Film {j} ({1950 + j})" for j in range(n_items)],
        "categories": [[GENRES[j % 5]] + ([GENRES[(j // 5) % 5]] if j % 3 == 0 and
                        (j // 5) % 5 != j % 5 else []) for j in range(n_items)],
    })
    b = InteractionBuilder()
    for u in range(n_users):
        length = int(rng.integers(8, 25))
        seen = rng.choice(n_items, size=length, replace=False, p=_zipf(n_items))
        for t, i in enumerate(seen):
            b.add(f"u{u:03d}", f"m{i}", 1000 * u + t)
    return canonicalize("tiny", b, items, FilterConfig(0, 0))


def _zipf(n):
    w = 1.0 / np.arange(1, n + 1) ** 0.7
    return w / w.sum()
