"""SimGCL (Yu et al., 2022): LightGCN plus InfoNCE between two views made by adding small random
noise to every layer's embeddings, instead of dropping edges; the ranking view has no noise.
"""

from __future__ import annotations

from ctrlrec.cf.lightgcn import LightGCN
from ctrlrec.cf.sgl import contrast


class SimGCL(LightGCN):
    default_ssl_weight = 0.2

    def extra_loss(self, users, pos, neg, ego):
        eps = self.cfg.noise_eps
        (u1, i1), (u2, i2) = (self.propagate(*ego, noise_eps=eps) for _ in range(2))
        return {"ssl": contrast(self, self.default_ssl_weight, users, pos, u1, i1, u2, i2)}
