"""The teacher baseline: SASRec top-k on the items mentioned so far (or training popularity when no
teacher run is given), never repeating an item already mentioned or recommended in the dialogue."""

from __future__ import annotations

import numpy as np

from ctrlrec.errors import CtrlrecError


class TopK:
    """Top-k item ids per history from a teacher run folder or "popularity"."""

    def __init__(self, ds, teacher: str = "popularity"):
        self.ds = ds
        self.name = teacher
        if teacher == "popularity":
            from ctrlrec.tasks.context import PopularityRanker

            self.pop = PopularityRanker.from_dataset(ds).popularity
            self.teacher = None
        else:
            from ctrlrec.teacher.api import Teacher

            self.teacher = Teacher.load(teacher)
            if self.teacher.n_items != ds.n_items:
                raise CtrlrecError(f"teacher {teacher} has {self.teacher.n_items} items but {ds.name} has "
                                   f"{ds.n_items}; expected a teacher trained on this dataset")

    def candidates(self, histories: list[list[int]], excludes: list[list[int]], n: int) -> list[list[int]]:
        """Up to `n` item ids per row, best first, without the row's history and excluded items."""
        n = min(n, self.ds.n_items)
        if self.teacher is not None:
            top = self.teacher.topk([h or [] for h in histories], n,
                                    exclude_items=[list(e) for e in excludes])
            return [[int(i) for i in row if i >= 0] for row in top]
        base = np.argsort(-self.pop, kind="stable")
        out = []
        for h, e in zip(histories, excludes, strict=True):
            bad = set(h) | set(e)
            out.append([int(i) for i in base[: n + len(bad)] if int(i) not in bad][:n])
        return out


def baseline_lists(topk: TopK, episodes, k: int) -> list[list[int]]:
    """The baseline's k items for each live episode: top-k on the items mentioned (and accepted) so
    far, excluding those and everything recommended before."""
    hists, excl = [], []
    for ep in episodes:
        hist = list(dict.fromkeys(ep.mentioned + ep.accepted))
        shown = [i for t in ep.turns if t.role == "recommender" for i in t.items]
        hists.append(hist)
        excl.append(list(dict.fromkeys(shown + ep.rejected)))
    return [row[:k] for row in topk.candidates(hists, excl, k)]
