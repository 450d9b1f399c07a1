"""A tiny dataset whose titles are the tiny tokenizer's 'Movie XY (year)' titles, so the tiny chat
model's answers ground to catalog items (category = the title's first letter group)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctrlrec.data.build import FilterConfig, InteractionBuilder, canonicalize
from tests.llm.tiny import TITLES

GENRES = {"A": "Alpha", "B": "Beta", "C": "Gamma", "D": "Delta", "E": "Alpha", "F": "Beta"}


def toy_dataset(n_users: int = 24, seed: int = 0):
    rng = np.random.default_rng(seed)
    items = pd.DataFrame({"source_id": [f"m{j}" for j in range(len(TITLES))], "title": TITLES,
                          "categories": [[GENRES[t[6]]] for t in TITLES]})
    b = InteractionBuilder()
    for u in range(n_users):
        seen = rng.choice(len(TITLES), size=int(rng.integers(9, 14)), replace=False)
        for t, i in enumerate(seen):
            b.add(f"u{u:03d}", f"m{i}", 1000 * u + t)
    return canonicalize("toy", b, items, FilterConfig(0, 0))
