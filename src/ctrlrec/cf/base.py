"""What every CF model shares: two `Embedder`s, BPR with an L2 term, full-ranking scores.

A model overrides `final()` (graph propagation) or `score()` (a non-dot-product scorer, NCF) and
may add an auxiliary loss in `extra_loss()` (the contrastive term of SGL and SimGCL).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ctrlrec.cf.config import CFConfig
from ctrlrec.cf.losses import bpr_loss, l2_reg
from ctrlrec.cf.side import Embedder


def warm_mask(train: np.ndarray, n: int, column: int) -> torch.Tensor:
    warm = torch.zeros(n)
    warm[torch.from_numpy(np.unique(train[:, column]))] = 1.0
    return warm


class CFModel(nn.Module):
    def __init__(self, cfg: CFConfig, n_users: int, n_items: int, train: np.ndarray,
                 user_side: torch.Tensor | None = None, item_side: torch.Tensor | None = None):
        super().__init__()
        self.cfg, self.n_users, self.n_items = cfg, n_users, n_items
        any_side = user_side is not None or item_side is not None
        self.users = Embedder(n_users, cfg.dim, warm_mask(train, n_users, 0), user_side, cfg.fuse,
                              cfg.side_hidden, other_side=any_side, init_std=cfg.init_std)
        self.items = Embedder(n_items, cfg.dim, warm_mask(train, n_items, 1), item_side, cfg.fuse,
                              cfg.side_hidden, other_side=any_side, init_std=cfg.init_std)
        self._cache: tuple[torch.Tensor, torch.Tensor] | None = None
        self.epochs_seen = 0  # training epochs started before the current one (set by the trainer)

    @property
    def out_dim(self) -> int:
        return self.users.out_dim

    def ego(self) -> tuple[torch.Tensor, torch.Tensor]:
        return self.users(), self.items()

    def final(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Embeddings the scores are computed from (after propagation for graph models)."""
        return self.ego()

    def score(self, u: torch.Tensor, i: torch.Tensor) -> torch.Tensor:
        """Scores of aligned rows u[k], i[k]."""
        return (u * i).sum(-1)

    def score_all(self, u: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Scores [B, n_items] of every user row against every item row."""
        return u @ items.T

    def extra_loss(self, users, pos, neg, final) -> dict[str, torch.Tensor]:
        return {}

    def on_epoch(self, rng: np.random.Generator) -> None:
        """Called before each training epoch (SGL draws its dropped-edge views here)."""

    # True when a row's final embedding depends on that row alone (no propagation): the loss then
    # embeds only the batch's rows instead of both whole tables (BiasMF, NCF).
    row_wise = False

    def user_rows(self, eu: torch.Tensor, users: torch.Tensor) -> torch.Tensor:
        """Final user embeddings of `users` from their ego rows (row-wise models)."""
        return eu

    def item_rows(self, ei: torch.Tensor, items: torch.Tensor) -> torch.Tensor:
        """Final item embeddings of `items` from their ego rows (row-wise models)."""
        return ei

    def loss(self, users: torch.Tensor, pos: torch.Tensor, neg: torch.Tensor) -> dict:
        if self.row_wise:
            eu, ep, en = self.users.rows(users), self.items.rows(pos), self.items.rows(neg)
            u = self.user_rows(eu, users)
            pos_s = self.score(u, self.item_rows(ep, pos))
            neg_s = self.score(u, self.item_rows(en, neg))
            return {"bpr": bpr_loss(pos_s, neg_s), "reg": self.cfg.reg * l2_reg(eu, ep, en)}
        eu, ei = self.ego()
        fu, fi = self.final_from(eu, ei)
        u = fu[users]
        parts = {"bpr": bpr_loss(self.score(u, fi[pos]), self.score(u, fi[neg])),
                 "reg": self.cfg.reg * l2_reg(eu[users], ei[pos], ei[neg])}
        parts.update(self.extra_loss(users, pos, neg, (eu, ei)))
        return parts

    def final_from(self, eu: torch.Tensor, ei: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`final()` from already computed ego embeddings (saves a second pass in training)."""
        return eu, ei

    # Evaluation: final embeddings computed once, then scores for batches of users.
    @torch.no_grad()
    def prepare_eval(self) -> None:
        self._cache = self.final()

    def clear_eval(self) -> None:
        self._cache = None

    @torch.no_grad()
    def score_users(self, users: torch.Tensor) -> torch.Tensor:
        if self._cache is None:
            self.prepare_eval()
        fu, fi = self._cache
        return self.score_all(fu[users.to(fu.device)], fi)
