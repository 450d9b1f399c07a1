"""Dataset statistics in the layout of the paper's Table 1 (plus category counts)."""

from __future__ import annotations

from ctrlrec.data.dataset import Dataset


def stats(ds: Dataset) -> dict:
    n_u, n_i, n = ds.n_users, ds.n_items, len(ds.interactions)
    cats_per_item = ds.catalog["categories"].map(len)
    lengths = [len(s) for s in ds.sequences]
    return {
        "users": n_u,
        "items": n_i,
        "interactions": n,
        "sparsity": 1.0 - n / (n_u * n_i) if n_u and n_i else 1.0,
        "categories": len(ds.categories),
        "mean_categories_per_item": float(cats_per_item.mean()) if n_i else 0.0,
        "mean_sequence_length": float(sum(lengths) / n_u) if n_u else 0.0,
        "eval_users": len(ds.split.eval_users),
    }
