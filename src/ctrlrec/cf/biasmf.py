"""BiasMF (Koren et al., 2009) trained with BPR: score = <p_u, q_i> + b_i.

The user bias and the global mean drop out of a pairwise loss and of a per-user ranking, so only the
item bias is kept. It enters as one more coordinate of each item row, with a constant 1 on the user
side, so the shared dot-product path scores it. A cold item's bias stays zero like its ID embedding.
With `item_bias = False` the model is plain BPR-MF, <p_u, q_i> (RecBole's BPR).
"""

from __future__ import annotations

import torch
from torch import nn

from ctrlrec.cf.base import CFModel


class BiasMF(CFModel):
    row_wise = True

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.item_bias = nn.Parameter(torch.zeros(self.n_items))

    def user_rows(self, eu, users):
        if not self.cfg.item_bias:
            return eu
        return torch.cat([eu, torch.ones(len(eu), 1, device=eu.device, dtype=eu.dtype)], 1)

    def item_rows(self, ei, items):
        if not self.cfg.item_bias:
            return ei
        bias = self.item_bias[items] * self.items.warm[items, 0]
        return torch.cat([ei, bias.unsqueeze(1)], 1)

    def final_from(self, eu, ei):
        if not self.cfg.item_bias:
            return eu, ei
        ones = torch.ones(len(eu), 1, device=eu.device, dtype=eu.dtype)
        bias = (self.item_bias * self.items.warm.squeeze(1)).unsqueeze(1)
        return torch.cat([eu, ones], 1), torch.cat([ei, bias], 1)

    def final(self):
        return self.final_from(*self.ego())
