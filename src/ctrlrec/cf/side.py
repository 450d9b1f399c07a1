"""The side-embedding plug-in: fixed per-user / per-item vectors, projected and fused with IDs.

Each side (users, items) of every model is an `Embedder`: an ID table plus, optionally, fixed
vectors (text, profiles) put through a small MLP. Fusion is `sum` (ID + projection) or `concat`
([ID, projection], twice the width). An entity with no training interaction (a cold item) has its
ID part zeroed, so it is represented by its projected vector alone; without side vectors it is the
zero vector, which gives every cold item the same score (nothing is known about it).
"""

from __future__ import annotations

import torch
from torch import nn

FUSIONS = ("sum", "concat")


class SideProjection(nn.Module):
    """Fixed vectors [n, d_in] -> Linear -> LeakyReLU -> Linear -> [n, dim]."""

    def __init__(self, vectors: torch.Tensor, dim: int, hidden: int = 256):
        super().__init__()
        self.register_buffer("vectors", vectors.float().contiguous())
        self.mlp = nn.Sequential(nn.Linear(vectors.shape[1], hidden), nn.LeakyReLU(0.2),
                                 nn.Linear(hidden, dim))

    def forward(self) -> torch.Tensor:
        return self.mlp(self.vectors)


class Embedder(nn.Module):
    """Layer-0 embeddings of one side: ID table fused with an optional side projection."""

    def __init__(self, n: int, dim: int, warm: torch.Tensor, side: torch.Tensor | None = None,
                 fuse: str = "sum", hidden: int = 256, other_side: bool = False, init_std: float = 0.1):
        super().__init__()
        if fuse not in FUSIONS:
            raise ValueError(f"fuse={fuse!r}: expected one of {FUSIONS}")
        self.fuse = fuse
        self.ids = nn.Embedding(n, dim)
        std = init_std if init_std > 0 else (2.0 / (n + dim)) ** 0.5  # 0: Xavier normal
        nn.init.normal_(self.ids.weight, std=std)
        self.register_buffer("warm", warm.float().reshape(-1, 1))
        self.side = SideProjection(side, dim, hidden) if side is not None else None
        # With concat fusion the other side's projection needs a partner on this side: a second,
        # free ID table when this side has no vectors of its own.
        self.extra = None
        if fuse == "concat" and self.side is None and other_side:
            self.extra = nn.Embedding(n, dim)
            nn.init.normal_(self.extra.weight, std=std)

    @property
    def out_dim(self) -> int:
        concat = self.fuse == "concat" and (self.side is not None or self.extra is not None)
        return self.ids.embedding_dim * (2 if concat else 1)

    def rows(self, idx: torch.Tensor) -> torch.Tensor:
        """`forward()[idx]`, computed for those rows only (the models without propagation)."""
        return self._fused(idx)

    def forward(self) -> torch.Tensor:
        return self._fused(None)

    def _fused(self, idx: torch.Tensor | None) -> torch.Tensor:
        """The layer-0 embeddings of rows `idx` (None: every row)."""
        def take(table: torch.Tensor) -> torch.Tensor:
            return table if idx is None else table[idx]

        warm = take(self.warm)
        ids = take(self.ids.weight) * warm
        if self.side is None:
            if self.extra is not None:
                return torch.cat([ids, take(self.extra.weight) * warm], dim=1)
            return ids
        proj = self.side.mlp(take(self.side.vectors))
        return ids + proj if self.fuse == "sum" else torch.cat([ids, proj], dim=1)
