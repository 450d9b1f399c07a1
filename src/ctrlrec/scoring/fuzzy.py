"""The fuzzy grounding step: the closest title by edit distance <= 3, without scanning the catalog.

A positional q-gram index proposes candidates and rapidfuzz verifies them. The filter is complete (it
never drops a title within the distance d), by the q-gram lemma: the query has G = |query|-q+1 q-gram
occurrences and each edit touches at most q of them, so at least G-q*d occurrences survive untouched;
an untouched occurrence at position i is found in the title at a position within i +- d (at most d
insertions or deletions precede it). So if the title matches, at least one of ANY q*d+1 of the query's
occurrences is found in it near its position. The candidates are the titles that hold one of the q*d+1
rarest occurrences (fewest titles with that q-gram near that position): prefix filtering. A query too
short for the lemma to bite (G-q*d < 1), or one whose rare postings are larger than its length
window, uses the titles whose length is within d of its own instead (|len(a)-len(b)| <= distance).
Both candidate sets are then cut to the length window and verified with Levenshtein distance; ties go
to the lowest index (the earlier item).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import defaultdict
from operator import itemgetter

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

MAX_DISTANCE = 3
_Q = (3, 2)  # trigrams where the query is long enough for them to filter, else bigrams


def _positional(titles: list[str], q: int) -> dict[str, tuple[list[int], list[int]]]:
    """q-gram -> (positions sorted, the items at them), as plain lists for bisect and slicing."""
    occ: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for i, t in enumerate(titles):
        for p in range(len(t) - q + 1):
            occ[t[p:p + q]].append((p, i))
    out = {}
    for g, pairs in occ.items():
        pairs.sort()
        out[g] = ([p for p, _ in pairs], [i for _, i in pairs])
    return out


class FuzzyIndex:
    """Candidate index over `titles` (as written); `nearest(q)` is the exact answer of a full scan."""

    def __init__(self, titles: list[str], max_distance: int = MAX_DISTANCE):
        self.titles = titles
        self.d = max_distance
        self.lengths = [len(t) for t in titles]
        by_length = np.argsort(np.asarray(self.lengths, dtype=np.int64), kind="stable")
        self._by_length = by_length.tolist()
        self._sorted_lengths = [self.lengths[i] for i in self._by_length]
        self.grams = {q: _positional(titles, q) for q in _Q}

    def candidates(self, query: str) -> list[int]:
        """Sorted indices of every title that can be within distance d of `query` (and maybe more)."""
        n, d = len(query), self.d
        lo = bisect_left(self._sorted_lengths, n - d)
        hi = bisect_right(self._sorted_lengths, n + d)
        if hi == lo:
            return []
        for q in _Q:
            if n - q + 1 - q * d >= 1:
                found = self._filter(query, q, hi - lo)
                if found is not None:
                    return found
                break
        return sorted(self._by_length[lo:hi])

    def _filter(self, query: str, q: int, window: int) -> list[int] | None:
        """Prefix filter on positional q-grams; None when the length window is cheaper."""
        n, d = len(query), self.d
        get = self.grams[q].get
        postings = [get(query[p:p + q]) for p in range(n - q + 1)]
        if postings.count(None) > q * d:  # more absent q-grams than edits can explain: no match
            return []
        rare = []
        for p, e in enumerate(postings):
            if e is None:
                rare.append((0, None, 0, 0))
            else:
                a, b = bisect_left(e[0], p - d), bisect_right(e[0], p + d)
                rare.append((b - a, e[1], a, b))
        rare.sort(key=itemgetter(0))
        take = q * d + 1
        total = sum(r[0] for r in rare[:take])
        if total >= window:
            return None
        found: set[int] = set()
        for size, items, a, b in rare[:take]:
            if size:
                found.update(items[a:b])
        ln = self.lengths
        return sorted(i for i in found if n - d <= ln[i] <= n + d)

    def nearest(self, query: str) -> tuple[int, int]:
        """(index, distance) of the closest title within distance d, ties the lowest index; (-1, -1)."""
        cand = self.candidates(query)
        if not cand:
            return -1, -1
        titles = self.titles
        hits = process.extract(query, [titles[i] for i in cand], scorer=Levenshtein.distance,
                               score_cutoff=self.d, limit=None)
        if not hits:
            return -1, -1
        _, dist, j = min(hits, key=lambda h: (h[1], h[2]))
        return cand[j], int(dist)


def nearest_by_scan(titles: list[str], query: str, max_distance: int = MAX_DISTANCE) -> tuple[int, int]:
    """The naive reference: one Levenshtein distance per catalog title (tests and the benchmark)."""
    best = (-1, -1)
    for i, t in enumerate(titles):
        dist = Levenshtein.distance(query, t, score_cutoff=max_distance)
        if dist <= max_distance and (best[0] < 0 or dist < best[1]):
            best = (i, dist)
    return best
