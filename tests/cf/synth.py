"""A tiny prepared dataset in two taste groups, saved into the test's own CTRLREC_HOME."""

import numpy as np
import pandas as pd

from ctrlrec.data import Dataset
from ctrlrec.data.store import save


def tiny_dataset(name="tiny", n_users=24, n_items=20, per_user=8, seed=0) -> Dataset:
    rng = np.random.default_rng(seed)
    rows = []
    for u in range(n_users):
        group = np.arange(0, n_items // 2) if u % 2 == 0 else np.arange(n_items // 2, n_items)
        for t, i in enumerate(rng.choice(group, per_user, replace=False)):
            rows.append((u, int(i), 1000 * t + u))
    inter = pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])
    catalog = pd.DataFrame({
        "item_id": np.arange(n_items), "source_id": [str(i) for i in range(n_items)],
        "title": [f"{'Space war' if i < n_items // 2 else 'Love story'} {i}" for i in range(n_items)],
        "categories": [["Sci-Fi"] if i < n_items // 2 else ["Romance"] for i in range(n_items)]})
    users = pd.DataFrame({"user_id": np.arange(n_users), "source_id": [str(u) for u in range(n_users)]})
    ds = Dataset(name=name, catalog=catalog, interactions=inter, users=users, meta={})
    save(ds)
    return ds


def fake_encoder(texts):
    """Two-dimensional 'embeddings' that tell the two groups apart."""
    return np.array([[1.0, 0.1] if t.startswith("Space") else [0.1, 1.0] for t in texts])
