"""The symmetric-normalised user-item adjacency of the graph models, always sparse.

Nodes are users 0..U-1 then items U..U+I-1. A = D^-1/2 [[0, R], [R^T, 0]] D^-1/2 with R the binary
training matrix; a node without edges keeps a zero row (its degree is never divided by).

The matrix is kept in CSR, and `propagate` multiplies through `SymmetricSpMM`, whose backward
multiplies by the same matrix (A is symmetric, so A^T = A): autograd's generic sparse backward
transposes and re-coalesces the matrix on every step. On CPU a LightGCN training step on a
20M-interaction graph is 1.8x faster than with a COO matrix and the generic backward (bench/cf_scale.py).
"""

from __future__ import annotations

import warnings

import numpy as np
import torch


def norm_adjacency(pairs: np.ndarray, n_users: int, n_items: int,
                   device: torch.device | str = "cpu") -> torch.Tensor:
    """Sparse CSR tensor [(U+I), (U+I)] of the normalised bipartite graph of `pairs` (user, item)."""
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    keys = np.unique(pairs[:, 0] * n_items + pairs[:, 1])  # dedup on one int64 key: fast at 20M
    pairs = np.stack([keys // n_items, keys % n_items], axis=1)
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
    with warnings.catch_warnings():  # torch calls sparse CSR "beta"; the operations used are stable
        warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
        return adj.coalesce().to_sparse_csr()


class SymmetricSpMM(torch.autograd.Function):
    """A @ x for a constant symmetric sparse A; the gradient with respect to x is A @ grad."""

    @staticmethod
    def forward(ctx, adj: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        ctx.adj = adj
        return torch.sparse.mm(adj, x)

    @staticmethod
    def backward(ctx, grad: torch.Tensor):
        return None, torch.sparse.mm(ctx.adj, grad)


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
        h = SymmetricSpMM.apply(adj, h)
        if noise_eps > 0:
            noise = torch.nn.functional.normalize(torch.rand_like(h), dim=-1)
            h = h + torch.sign(h) * noise * noise_eps
        out.append(h)
    return torch.stack(out).mean(0)
