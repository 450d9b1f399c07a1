"""Tiny synthetic data for the teacher tests: deterministic next-item patterns a model can learn."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctrlrec.data import Dataset
from ctrlrec.teacher import TeacherConfig

N_ITEMS = 20


def cyclic_dataset(n_users: int = 40, length: int = 12, n_items: int = N_ITEMS) -> Dataset:
    """User u sees items s, s+1, s+2, ... (mod n_items): the next item follows from the last one."""
    rows = []
    for u in range(n_users):
        start = (u * 7) % n_items
        for t in range(length):
            rows.append((u, (start + t) % n_items, 1000 * u + t))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    cats = [["Even" if i % 2 == 0 else "Odd"] + (["Low"] if i < 5 else []) for i in range(n_items)]
    catalog = pd.DataFrame({"item_id": np.arange(n_items), "title": [f"Item {i}" for i in
                            range(n_items)], "categories": cats,
                            "source_id": [str(i) for i in range(n_items)]})
    users = pd.DataFrame({"user_id": np.arange(n_users), "source_id": [str(u) for u in
                          range(n_users)]})
    return Dataset(name="cyclic", catalog=catalog, interactions=inter, users=users)


def tiny_config(**kw) -> TeacherConfig:
    base = dict(dataset="cyclic", max_len=8, hidden=32, layers=2, heads=2, dropout=0.0, lr=5e-3,
                batch_size=16, epochs=40, patience=40, device="cpu", seed=7, threads=1)
    base.update(kw)
    return TeacherConfig(**base)


