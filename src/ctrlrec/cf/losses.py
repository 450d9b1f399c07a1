"""The losses shared by every CF model: BPR over sampled negatives, InfoNCE between two views."""

from __future__ import annotations

import torch
import torch.nn.functional as F


def bpr_loss(pos_scores: torch.Tensor, neg_scores: torch.Tensor) -> torch.Tensor:
    """Mean of -log sigmoid(pos - neg) (Rendle et al., 2009)."""
    return -F.logsigmoid(pos_scores - neg_scores).mean()


def info_nce(a: torch.Tensor, b: torch.Tensor, temperature: float) -> torch.Tensor:
    """Mean InfoNCE of row i of `a` against all rows of `b`, row i of `b` being the positive.

    Rows are L2-normalised first (cosine similarity), as in SGL and SimGCL.
    """
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    logits = a @ b.T / temperature
    return F.cross_entropy(logits, torch.arange(len(a), device=a.device))


def l2_reg(*tensors: torch.Tensor) -> torch.Tensor:
    """Half the squared L2 norm of the batch's embeddings, per example (LightGCN's regulariser)."""
    n = len(tensors[0])
    return sum(t.pow(2).sum() for t in tensors) / (2 * n)
