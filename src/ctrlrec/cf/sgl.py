"""SGL-ED (Wu et al., 2021): LightGCN plus InfoNCE between two edge-dropout views of the graph,
for the batch's users and positive items; both views are drawn afresh each epoch.
"""

from __future__ import annotations

import numpy as np
import torch

from ctrlrec.cf.graph import edge_dropout, norm_adjacency
from ctrlrec.cf.lightgcn import LightGCN
from ctrlrec.cf.losses import info_nce


class SGL(LightGCN):
    default_ssl_weight = 0.1

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.views: tuple[torch.Tensor, torch.Tensor] | None = None

    def on_epoch(self, rng: np.random.Generator) -> None:
        dev = self.adj.device
        self.views = tuple(
            norm_adjacency(edge_dropout(self.train_pairs, self.cfg.edge_drop, rng),
                           self.n_users, self.n_items, device=dev) for _ in range(2))

    def extra_loss(self, users, pos, neg, ego):
        if self.views is None:
            self.on_epoch(np.random.default_rng(self.cfg.seed))
        (u1, i1), (u2, i2) = (self.propagate(*ego, adj=a) for a in self.views)
        return {"ssl": contrast(self, self.default_ssl_weight, users, pos, u1, i1, u2, i2)}


def contrast(model, default_weight, users, pos, u1, i1, u2, i2) -> torch.Tensor:
    """Weighted InfoNCE of the batch's distinct users and distinct positive items across two views.
    During the first `ssl_warmup` epochs the weight ramps linearly from 0 (`model.epochs_seen`)."""
    cfg = model.cfg
    uu, ii = torch.unique(users), torch.unique(pos)
    weight = default_weight if cfg.ssl_weight is None else cfg.ssl_weight
    if cfg.ssl_warmup > 0:
        weight *= min(1.0, model.epochs_seen / cfg.ssl_warmup)
    t = cfg.ssl_temp
    return weight * (info_nce(u1[uu], u2[uu], t) + info_nce(i1[ii], i2[ii], t))
