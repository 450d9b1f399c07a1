"""A profile written from the data alone: always valid, so best-of-n never runs out of targets.

Untuned small models rarely keep the fixed shape (SmolLM2-135M wrote 0 valid profiles of 32 on
ml-100k), so the `self` teacher ranks this candidate beside its own samples by the same round-2
criterion. Identity: how much the user watches (against the other users), how mainstream the items
are (mean popularity percentile), and the decade most of the titles come from, where titles carry a
year. Interests: the three most frequent categories of the history (ties by name).
"""

from __future__ import annotations

import re
from collections import Counter

import numpy as np

from ctrlrec.profiles.shape import render

_YEAR = re.compile(r"\((\d{4})\)\s*$")


class Facts:
    def __init__(self, catalog, histories: list[list[int]]):
        cat = catalog.sort_values("item_id")
        self.categories = [list(c) if c is not None else [] for c in cat["categories"]]
        self.years = [int(m.group(1)) if (m := _YEAR.search(str(t))) else None for t in cat["title"]]
        counts = np.bincount([i for h in histories for i in h], minlength=len(self.categories))
        self.pop_pct = counts.argsort().argsort() / max(len(counts) - 1, 1)  # 0 = rarest, 1 = most seen
        sizes = np.array([len(h) for h in histories if h]) if any(histories) else np.array([0])
        self.size_cuts = np.quantile(sizes, [1 / 3, 2 / 3])

    def profile(self, history: list[int]) -> str:
        n = len(history)
        activity = ("avid viewer" if n > self.size_cuts[1] else
                    "regular viewer" if n > self.size_cuts[0] else "occasional viewer")
        pct = float(np.mean(self.pop_pct[history])) if n else 0.5
        taste = ("mainstream taste" if pct >= 0.8 else "niche taste" if pct < 0.6 else "varied taste")
        years = [self.years[i] for i in history if self.years[i] is not None]
        era = (f"mostly {Counter(y // 10 * 10 for y in years).most_common(1)[0][0]}s titles" if years
               else "no favourite era")
        cats = Counter(c for i in history for c in self.categories[i])
        top = [c for c, _ in sorted(cats.items(), key=lambda kv: (-kv[1], kv[0]))][:3]
        fill = ["popular titles", "new releases", "classics"]
        top += [f for f in fill if f not in top][: 3 - len(top)]
        return render((activity, taste, era), top)
