"""The symmetric-normalised user-item adjacency of the graph models, always sparse.

Nodes are users 0..U-1 then items U..U+I-1. A = D^-1/2 [[0, R], [R^T, 0]] D^-1/2 with R the binary
training matrix; a node without edges keeps a zero row (its degree is never divided by).
"""

from __future__ import annotations

import numpy as np
import torch


def norm_adjacency(pairs: np.ndarray, n_users: int, n_items: int,
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """Sparse COO tensor [(U+I), (U+I)] of the normalised bipartite graph of `pairs` (user, item)."""
    pairs = np.unique(np.asarray(pairs, dtype=np.int64).reshape(-1, 2), axis=0)
    n = n_users + n_items
    rows = np.concatenate([pairs[:, 0], pairs[:, 1] + n_users])
    cols = np.concatenate([pairs[:, 1] + n_users, pairs[:, 0]])
    deg = np.bincount(rows, minlength=n).astype(np.float64)
    inv_sqrt = np.zeros(n)
    inv_sqrt[deg > 0] = deg[deg > 0] ** -0.5
    vals = inv_sqrt[rows] * inv_sqrt[cols]
    idx = torch.from_numpy(np.stack([rows, cols]))
    adj = torch.sparse_coo_tensor(idx, torch.from_numpy(vals).float(), (n, n), device=device,
                                  check_invariants=False)
    return adj.coalesce()


def edge_dropout(pairs: np.ndarray, rate: float, rng: np.random.Generator) -> np.ndarray:
    """Keep each interaction with probability 1 - rate (SGL's edge-dropout view)."""
    keep = rng.random(len(pairs)) >= rate
    return pairs[keep]


def propagate(adj: torch.Tensor, ego: torch.Tensor, layers: int,
              noise_eps: float = 0.0) -> torch.Tensor:
    """LightGCN: the mean of the ego embeddings and `layers` rounds of A @ E.

    With `noise_eps` > 0 each layer's output gets SimGCL's random noise: a uniform direction of
    length eps, signed like the embedding itself.
    """
    out, h = [ego], ego
    for _ in range(layers):
        h = torch.sparse.mm(adj, h)
        if noise_eps > 0:
            noise = torch.nn.functional.normalize(torch.rand_like(h), dim=-1)
            h = h + torch.sign(h) * noise * noise_eps
        out.append(h)
    return torch.stack(out).mean(0)
