"""NCF / NeuMF (He et al., 2017): a GMF branch (u * i) and an MLP branch ([u, i] -> MLP), joined by
one linear layer to a score. Both branches read the same (fused) embeddings here, which lets the
side-embedding plug-in apply once; full ranking runs the MLP over users x items in item chunks.
"""

from __future__ import annotations

import torch
from torch import nn

from ctrlrec.cf.base import CFModel


class NCF(CFModel):
    row_wise = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        d = self.out_dim
        widths = [2 * d, d, d // 2]
        layers: list[nn.Module] = []
        for a, b in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(a, b), nn.ReLU()]
        self.mlp = nn.Sequential(*layers)
        self.head = nn.Linear(d + widths[-1], 1)

    def score(self, u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        h = torch.cat([u * i, self.mlp(torch.cat([u, i], -1))], -1)
        return self.head(h).squeeze(-1)

    def score_all(self, u: torch.Tensor, items: torch.Tensor, chunk: int = 1 << 18) -> torch.Tensor:
        out = torch.empty(len(u), len(items), device=u.device)
        step = max(1, chunk // max(len(u), 1))
        for a in range(0, len(items), step):
            it = items[a:a + step]
            uu = u.unsqueeze(1).expand(-1, len(it), -1)
            ii = it.unsqueeze(0).expand(len(u), -1, -1)
            out[:, a:a + step] = self.score(uu, ii)
        return out
