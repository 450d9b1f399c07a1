"""Each user's m most similar users (RecLM's collaborative context).

Similarity is the cosine of a trained LightGCN's propagated user embeddings (a `ctrlrec cf train
--model lightgcn` run on the same dataset, split and seed). A user without an embedding (no training
interaction in that run, or no run given at all) gets neighbours by the cosine of text vectors: the
mean of the sentence vectors of the user's training items (`ctrlrec.cf.text.user_vectors`). A user
with neither has no neighbours.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ctrlrec.errors import CtrlrecError


def top_m(vectors: torch.Tensor, m: int, queries: np.ndarray, pool: np.ndarray,
          block: int = 1024) -> dict[int, list[int]]:
    """For each user in `queries`: the `m` users of `pool` with the highest cosine, self excluded."""
    if m < 1:
        raise CtrlrecError(f"neighbours m = {m}: expected a positive integer")
    out: dict[int, list[int]] = {}
    if len(pool) == 0 or len(queries) == 0:
        return {int(u): [] for u in queries}
    v = torch.nn.functional.normalize(vectors.float(), dim=1)
    cand = v[torch.from_numpy(pool)]
    pool_t = torch.from_numpy(pool)
    for s in range(0, len(queries), block):
        q = torch.from_numpy(queries[s:s + block])
        sim = v[q] @ cand.T
        sim[pool_t.unsqueeze(0) == q.unsqueeze(1)] = -torch.inf  # never one's own neighbour
        top = sim.topk(min(m, len(pool)), dim=1)
        for u, vals, row in zip(q.tolist(), top.values.tolist(), top.indices.tolist(), strict=True):
            out[u] = [int(pool[j]) for j, x in zip(row, vals, strict=True) if x != -float("inf")]
    return out


def neighbours(n_users: int, m: int, cf_vectors: torch.Tensor | None, cf_has: np.ndarray | None,
               text_vectors: torch.Tensor | None, text_has: np.ndarray | None) -> tuple[list, list]:
    """(neighbour lists per user, source per user: 'cf', 'text' or 'none')."""
    lists: list[list[int]] = [[] for _ in range(n_users)]
    source = ["none"] * n_users
    done = np.zeros(n_users, dtype=bool)
    if cf_vectors is not None:
        pool = np.flatnonzero(cf_has)
        for u, nb in top_m(cf_vectors, m, pool, pool).items():
            lists[u], source[u], done[u] = nb, "cf", True
    if text_vectors is not None:
        rest = np.flatnonzero(~done & text_has)  # a user with no training item has no text vector
        for u, nb in top_m(text_vectors, m, rest, np.flatnonzero(text_has)).items():
            lists[u], source[u] = nb, ("text" if nb else "none")
    return lists, source


def lightgcn_user_vectors(run: str | Path, split) -> tuple[torch.Tensor, np.ndarray]:
    """(propagated user embeddings, which users have one) of a LightGCN run on `split`.

    The run must have been trained on the same training pairs (same dataset, split kind and seed),
    else its embeddings would carry interactions this split holds out.
    """
    from ctrlrec.cf.checkpoint import pairs_sha
    from ctrlrec.cf.train import load_run

    cfg, run_split, model = load_run(Path(run), device="cpu")
    if cfg.model != "lightgcn":
        raise CtrlrecError(f"--cf-run {run}: a {cfg.model} run; expected a LightGCN run")
    if pairs_sha(run_split.train) != pairs_sha(split.train):
        raise CtrlrecError(f"--cf-run {run}: trained on split {cfg.split} seed {cfg.seed}, which holds "
                           f"other training pairs; expected a run on this profile build's split and seed")
    model.eval()
    with torch.no_grad():
        users, _ = model.final()
    has = np.zeros(split.n_users, dtype=bool)
    has[np.unique(split.train[:, 0])] = True
    return users.detach().cpu(), has
