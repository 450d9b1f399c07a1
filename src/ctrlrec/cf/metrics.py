"""Full-ranking Recall and NDCG at K: every candidate item scored, known items masked out.

Recall@K = hits in the top K / the user's held-out items; NDCG@K = DCG / the ideal DCG of
min(K, held-out) hits. Ties are broken by a fixed random permutation of the items, so an item set
whose scores are all equal ranks at random, not in id order.
"""

from __future__ import annotations

import numpy as np
import torch

KS = (10, 20, 40)


def group_by_user(pairs: np.ndarray, n_users: int) -> list[np.ndarray]:
    """Items of each user (empty arrays for users without any)."""
    pairs = pairs[np.argsort(pairs[:, 0], kind="stable")]
    bounds = np.searchsorted(pairs[:, 0], np.arange(n_users + 1))
    return [pairs[bounds[u]:bounds[u + 1], 1] for u in range(n_users)]


def mask_matrix(known: list[np.ndarray], users: np.ndarray, n_items: int) -> torch.Tensor:
    """Boolean [len(users), n_items]: True where the user's item is known and must not be ranked."""
    mask = torch.zeros(len(users), n_items, dtype=torch.bool)
    for r, u in enumerate(users):
        mask[r, torch.from_numpy(known[u])] = True
    return mask


def rank_metrics(scores: torch.Tensor, targets: list[np.ndarray], ks=KS) -> dict[str, np.ndarray]:
    """Per-row recall@k and ndcg@k of `scores` [B, n_items] (masked entries already -inf)."""
    kmax = max(ks)
    top = torch.topk(scores, min(kmax, scores.shape[1]), dim=1).indices.cpu().numpy()
    out = {f"{m}@{k}": np.zeros(len(targets)) for k in ks for m in ("recall", "ndcg")}
    disc = 1.0 / np.log2(np.arange(2, kmax + 2))
    for r, tgt in enumerate(targets):
        hit = np.isin(top[r], tgt)
        for k in ks:
            h = hit[:k]
            out[f"recall@{k}"][r] = h.sum() / len(tgt)
            ideal = disc[: min(k, len(tgt))].sum()
            out[f"ndcg@{k}"][r] = (h * disc[: len(h)]).sum() / ideal
    return out


@torch.no_grad()
def evaluate(score_fn, targets: list[np.ndarray], known: list[np.ndarray], n_items: int,
             candidates: np.ndarray | None = None, batch_users: int = 1024, ks=KS,
             seed: int = 0) -> dict[str, float]:
    """Mean metrics over users with held-out items. `score_fn(users)` -> [B, n_items] scores."""
    users = np.array([u for u, t in enumerate(targets) if len(t)], dtype=np.int64)
    perm_np = np.random.default_rng(seed).permutation(n_items)
    perm, inv = torch.from_numpy(perm_np), np.argsort(perm_np)
    allowed = None
    if candidates is not None:
        allowed = torch.zeros(n_items, dtype=torch.bool)
        allowed[torch.from_numpy(np.asarray(candidates))] = True
    sums: dict[str, float] = {}
    for a in range(0, len(users), batch_users):
        batch = users[a:a + batch_users]
        scores = score_fn(torch.from_numpy(batch)).float().cpu()
        scores = scores.masked_fill(mask_matrix(known, batch, n_items), float("-inf"))
        if allowed is not None:
            scores = scores.masked_fill(~allowed, float("-inf"))
        # Rank in a shuffled item order so ties fall at random; map the top-k back to item ids.
        res = rank_metrics(scores[:, perm], [inv[targets[u]] for u in batch], ks)
        for k, v in res.items():
            sums[k] = sums.get(k, 0.0) + float(v.sum())
    return {k: v / max(len(users), 1) for k, v in sums.items()} | {"users": int(len(users))}
