"""LightGCN (He et al., 2020): ego embeddings propagated over the normalised graph, layers averaged.

A node without training edges (a cold item, a user first seen later) keeps its ego embedding: the
average would only shrink it by 1 / (layers + 1) against nodes that have neighbours.
"""

from __future__ import annotations

import torch

from ctrlrec.cf.base import CFModel
from ctrlrec.cf.graph import norm_adjacency, propagate


class LightGCN(CFModel):
    def __init__(self, cfg, n_users, n_items, train, *args, **kwargs):
        super().__init__(cfg, n_users, n_items, train, *args, **kwargs)
        self.train_pairs = train
        self.adj = norm_adjacency(train, n_users, n_items)
        deg = torch.zeros(n_users + n_items)
        deg.index_add_(0, torch.from_numpy(train[:, 0]), torch.ones(len(train)))
        deg.index_add_(0, torch.from_numpy(train[:, 1] + n_users), torch.ones(len(train)))
        self.register_buffer("isolated", deg == 0, persistent=False)

    def _apply(self, fn, *args, **kwargs):
        # Keep the sparse adjacency (not a buffer: safetensors holds no sparse tensors) on the
        # model's device.
        super()._apply(fn, *args, **kwargs)
        self.adj = fn(self.adj)
        return self

    def propagate(self, eu, ei, adj=None, noise_eps: float = 0.0):
        ego = torch.cat([eu, ei])
        out = propagate(self.adj if adj is None else adj, ego, self.cfg.layers, noise_eps)
        out = torch.where(self.isolated.unsqueeze(1), ego, out)
        return out[: self.n_users], out[self.n_users:]

    def final_from(self, eu, ei):
        return self.propagate(eu, ei)

    def final(self):
        return self.final_from(*self.ego())
