"""Candidate pools of the grounded mode: what the teacher retrieves for a history, before any instruction.

The grounded mode (docs/architecture.md, "Two modes") lists a pool of candidates in the prompt and
the model chooses k of them that obey the instruction. A pool is built from the history alone, at
training and test alike, never from the instruction or the target:

  the teacher's top `n_top` items (history excluded), plus, for every category, the teacher's best
  `per_category` items of that category, so that an answer obeying any category instruction of the
  test sets exists inside the pool (I1+ of C needs k items of C; I1- needs k outside C).

The pool is listed in a stable order (`order`): "teacher" (best first by the teacher's score), or
"title" (alphabetical, which hides the teacher's order from the model: the permutation test). Each
entry carries the teacher's score, used by teacher-guided decoding and by the pool baselines.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from ctrlrec.errors import CtrlrecError

MODES = ("paper", "grounded")
ORDERS = ("teacher", "title")
ANSWERS = ("titles", "tagged")


@dataclass
class PoolConfig:
    """How a grounded prompt's candidate pool is built (ignored in the paper mode).

    mode: "paper" (no candidates: the model names titles from the history alone, the paper's Tables
        2-4) or "grounded" (the prompt lists the pool; the model chooses from it).
    n_top: the teacher's best items of any category.
    per_category: the teacher's best items of each category added to them (0: none).
    order: "teacher" (best first) or "title" (alphabetical).
    show_categories: list each candidate's categories beside its title.
    history: the most recent history items the grounded prompt names (0: none; the teacher has read
        the history, and every item costs prompt tokens the CPU pays for in training and decoding).
    instruction: where the instruction stands, "after" the pool (next to the answer; samples of one
        group then share the pool as a prompt prefix) or "before" it (every candidate's tokens can
        attend to it).
    answer: how an answer line names its item: "titles" (`1. Title`, the paper's format) or
        "tagged" (`1. [Comedy, Drama] 'Title'`, the candidate as the pool lists it, categories
        first: the model writes an item's categories before it commits to the title, so obeying
        a category instruction is a choice among category tokens; scoring drops the tag).
    """

    mode: str = "paper"
    n_top: int = 20
    per_category: int = 10
    order: str = "teacher"
    show_categories: bool = True
    history: int = 10
    instruction: str = "after"
    answer: str = "titles"

    def check(self) -> None:
        if self.mode not in MODES:
            raise CtrlrecError(f"pool mode {self.mode!r}: expected one of {', '.join(MODES)}")
        if self.instruction not in ("after", "before"):
            raise CtrlrecError(f"pool instruction {self.instruction!r}: expected after or before")
        if self.answer not in ANSWERS:
            raise CtrlrecError(f"pool answer {self.answer!r}: expected one of {', '.join(ANSWERS)}")
        if self.order not in ORDERS:
            raise CtrlrecError(f"pool order {self.order!r}: expected one of {', '.join(ORDERS)}")
        if self.n_top < 1 or self.per_category < 0 or self.history < 0:
            raise CtrlrecError(f"pool n_top={self.n_top}, per_category={self.per_category}, "
                               f"history={self.history}: expected n_top >= 1, the others >= 0")

    @property
    def grounded(self) -> bool:
        return self.mode == "grounded"

    @property
    def tagged(self) -> bool:
        return self.grounded and self.answer == "tagged"

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Pool:
    """One history's candidates (item ids, in the listing order) and the teacher's score of each."""

    items: list[int]
    scores: list[float]


def _row_scores(ctx, prefixes: list[np.ndarray]) -> np.ndarray:
    """[B, n_items] teacher scores with history items at -inf (a ranker without scores: -rank)."""
    hs = [p[-ctx.teacher_len:].tolist() for p in prefixes]
    if hasattr(ctx.ranker, "scores"):
        sc = ctx.ranker.scores(hs).cpu().numpy().astype(np.float64)
    else:
        ranks = np.asarray(ctx.ranker.ranking(hs))
        sc = np.empty(ranks.shape, dtype=np.float64)
        rows = np.arange(len(hs))[:, None]
        sc[rows, ranks] = -np.arange(ranks.shape[1], dtype=np.float64)[None, :] / ranks.shape[1]
    for b, p in enumerate(prefixes):  # the full prefix is excluded, not only the teacher's window
        sc[b, np.asarray(p, dtype=np.int64)] = -np.inf
    return sc


def build_pools(ctx, prefixes: list[np.ndarray], cfg: PoolConfig, batch: int = 512) -> list[Pool]:
    """The pool of each prefix (a list of item-id arrays), teacher scores included."""
    cfg.check()
    out: list[Pool] = []
    titles = ctx.titles
    for s in range(0, len(prefixes), batch):
        sc = _row_scores(ctx, prefixes[s:s + batch])
        n = sc.shape[1]
        top = np.argsort(-sc, axis=1, kind="stable")[:, : min(cfg.n_top, n)]
        picks = [set(row.tolist()) for row in top]
        if cfg.per_category:
            for j in range(ctx.catmat.shape[0]):
                member = ctx.catmat[j]
                m = min(cfg.per_category, int(member.sum()))
                if m == 0:
                    continue
                masked = np.where(member[None, :], sc, -np.inf)
                best = np.argpartition(-masked, m - 1, axis=1)[:, :m]
                for b, row in enumerate(best):
                    picks[b].update(int(i) for i in row if np.isfinite(sc[b, i]))
        for b, chosen in enumerate(picks):
            items = [i for i in chosen if np.isfinite(sc[b, i])]
            if cfg.order == "teacher":
                items.sort(key=lambda i, b=b: (-sc[b, i], i))
            else:
                items.sort(key=lambda i: (titles[i].casefold(), i))
            out.append(Pool(items, [float(sc[b, i]) for i in items]))
    return out


def restricted(pool: Pool) -> np.ndarray:
    """The pool's items in the teacher's order (best first), whatever the listing order."""
    order = np.argsort(-np.asarray(pool.scores), kind="stable")
    return np.asarray(pool.items, dtype=np.int64)[order]


def in_pool_mask(pool: Pool, n_items: int) -> np.ndarray:
    mask = np.zeros(n_items, dtype=bool)
    mask[np.asarray(pool.items, dtype=np.int64)] = True
    return mask


def admits(catmat: np.ndarray, cat_index: dict, items: list[int], history, k: int, intents) -> bool:
    """Whether k pool items outside the history can obey every intent at once (a compliant answer
    exists in the pool): hard filters (I1+/I3 keep C, I1- drop C) first, then an I2 count range."""
    from ctrlrec.tasks.labels import count_bounds

    hist = set(int(h) for h in history)
    left = np.array([i for i in items if int(i) not in hist], dtype=np.int64)
    keep = np.ones(len(left), dtype=bool)
    prop = None
    for it in intents:
        if it.kind in ("I1+", "I3"):
            keep &= catmat[cat_index[it.category]][left]
        elif it.kind == "I1-":
            keep &= ~catmat[cat_index[it.category]][left]
        elif it.kind.startswith("I2"):
            prop = it
    if prop is None:
        return int(keep.sum()) >= k
    in_c = catmat[cat_index[prop.category]][left][keep]
    lo, hi = count_bounds(prop.kind, k, prop.allowed(k))
    n_in, n_out = int(in_c.sum()), int((~in_c).sum())
    return lo <= hi and any(lo <= c <= hi and c <= n_in and k - c <= n_out for c in range(k + 1))
