"""The fuzzy grounding step: the closest title by edit distance <= 3, without scanning the catalog.

A positional q-gram index proposes candidates and rapidfuzz verifies them, for a whole batch of queries
at once in numpy. The filter is complete (it never drops a title within the distance d), by the q-gram
lemma: the query has G = |query|-q+1 q-gram occurrences and each edit touches at most q of them, so at
least G-q*d occurrences survive untouched; an untouched occurrence at position i is found in the title
at a position within i +- d (at most d insertions or deletions precede it). So of ANY s of the query's
occurrences, at least c = s-q*d are found in a matching title near their positions. The candidates are
the titles found in at least c of the postings of the query's s rarest occurrences (fewest titles with
that q-gram near that position): prefix filtering, with a count threshold where the query is long
enough for one. A query too short for the lemma to bite (G-q*d < 1), or one whose rare postings cost
more than its length window, is compared with every title whose length is within d of its own instead
(|len(a)-len(b)| <= distance); queries of one length share that window, so one `cdist` block checks
them together. Filtered candidates are checked pair by pair (`cpdist`). Ties go to the lowest index.
"""

from __future__ import annotations

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

MAX_DISTANCE = 3
_Q = (3, 2)          # trigrams where the query is long enough for them to filter, else bigrams
_EXTRA = 2           # up to this many occurrences beyond q*d+1: a candidate must then hold more of them
_WINDOW_COST = 0.25  # a title checked in a shared cdist block costs about a quarter of a filtered pair
_PAIRS = 1 << 20     # candidate pairs handled at a time (memory bound)
_CELLS = 1 << 22     # cdist cells computed at a time


def codepoints(strings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """The code points of all strings, concatenated, and the offsets where each string starts."""
    lens = np.fromiter(map(len, strings), dtype=np.int64, count=len(strings))
    off = np.zeros(len(strings) + 1, dtype=np.int64)
    np.cumsum(lens, out=off[1:])
    raw = "".join(strings).encode("utf-32-le", "surrogatepass")
    return np.frombuffer(raw, dtype="<u4").astype(np.int64), off


def ranges(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenated aranges: starts[i], starts[i]+1, ..., starts[i]+counts[i]-1 for every i."""
    total = int(counts.sum())
    before = np.cumsum(counts) - counts
    return np.arange(total, dtype=np.int64) + np.repeat(starts - before, counts)


def _gram_codes(cp: np.ndarray, start: np.ndarray, q: int) -> np.ndarray:
    """One int64 per q-gram starting at `start` (code points are < 2**21, so 3 fit in 63 bits)."""
    code = cp[start]
    for j in range(1, q):
        code = (code << 21) | cp[start + j]
    return code


def _occurrences(off: np.ndarray, which: np.ndarray, q: int) -> tuple[np.ndarray, np.ndarray]:
    """For strings `which`: each q-gram occurrence's string and position, string by string."""
    counts = np.maximum(off[which + 1] - off[which] - q + 1, 0)
    owner = np.repeat(which, counts)
    return owner, ranges(np.zeros(len(which), dtype=np.int64), counts)


class _Postings:
    """Positional q-grams of the titles: sorted (gram id, position) keys and the item of each."""

    def __init__(self, cp: np.ndarray, off: np.ndarray, q: int, span: int):
        self.q, self.span = q, span
        item, pos = _occurrences(off, np.arange(len(off) - 1), q)
        code = _gram_codes(cp, off[item] + pos, q)
        order = np.argsort(code, kind="stable")
        sc = code[order]
        first = np.ones(len(sc), dtype=bool)
        first[1:] = sc[1:] != sc[:-1]
        self.codes = sc[first]                       # distinct gram codes, sorted
        gid = np.empty(len(sc), dtype=np.int64)
        gid[order] = np.cumsum(first) - 1
        key = gid * span + pos
        order = np.argsort(key, kind="stable")     # by gram, then position, then item
        self.keys, self.items = key[order], item[order]

    def lookup(self, code: np.ndarray, pos: np.ndarray, d: int) -> tuple[np.ndarray, np.ndarray]:
        """(start, count) in `items` of the titles holding each gram within +- d of its position."""
        if not len(self.codes):
            return np.zeros(len(code), dtype=np.int64), np.zeros(len(code), dtype=np.int64)
        gi = np.minimum(np.searchsorted(self.codes, code), len(self.codes) - 1)
        base = gi * self.span
        a = np.searchsorted(self.keys, base + np.maximum(pos - d, 0), side="left")
        b = np.searchsorted(self.keys, base + pos + d, side="right")
        return a, np.where(self.codes[gi] == code, b - a, 0)


class FuzzyIndex:
    """Candidate index over `titles` (as written); `nearest_many` is the exact answer of a full scan."""

    def __init__(self, titles: list[str], max_distance: int = MAX_DISTANCE):
        self.titles = titles
        self.d = d = max_distance
        self._objects = _objects(titles)
        cp, off = codepoints(titles)
        self.lengths = np.diff(off)
        self._by_length = np.argsort(self.lengths, kind="stable")
        self._sorted_lengths = self.lengths[self._by_length]
        span = int(self.lengths.max(initial=0)) + 2 * d + 1  # > any position +- d a query can ask
        self.grams = {q: _Postings(cp, off, q, span) for q in _Q}

    # -- planning: which candidates each query gets ---------------------------------------------
    def _plan(self, queries: list[str]):
        """Per query: its length window [lo, hi) in length order, and for the queries that use the
        q-gram filter (`filt`), the kept occurrences: query, rank among its kept ones, postings range.
        """
        d = self.d
        cp, off = codepoints(queries)
        qlen = np.diff(off)
        lo = np.searchsorted(self._sorted_lengths, qlen - d, side="left")
        hi = np.searchsorted(self._sorted_lengths, qlen + d, side="right")
        window = hi - lo
        nq = len(queries)
        filt = np.zeros(nq, dtype=bool)
        need = np.zeros(nq, dtype=np.int64)  # c: how many kept postings a candidate must be in
        kept = []
        assigned = window == 0
        for q in _Q:
            fits = ~assigned & (qlen >= q * (d + 1))  # G - q*d >= 1: the lemma bites
            assigned |= fits
            which = np.flatnonzero(fits)
            if not len(which):
                continue
            owner, pos = _occurrences(off, which, q)
            a, cnt = self.grams[q].lookup(_gram_codes(cp, off[owner] + pos, q), pos, d)
            # the s rarest occurrences of each query: sort by (query, count), keep the first s
            order = np.lexsort((cnt, owner))
            owner, a, cnt = owner[order], a[order], cnt[order]
            g = qlen[which] - q + 1
            s = np.minimum(g, q * d + 1 + _EXTRA)
            rank = np.arange(len(owner)) - np.repeat(np.cumsum(g) - g, g)
            keep = rank < np.repeat(s, g)
            owner, rank, a, cnt = owner[keep], rank[keep], a[keep], cnt[keep]
            total = np.bincount(owner, weights=cnt, minlength=nq)[which]
            use = total < window[which] * _WINDOW_COST
            filt[which[use]] = True
            need[which] = s - q * d
            on = filt[owner]
            kept.append((owner[on], rank[on], a[on], cnt[on], q))
        return qlen, lo, hi, filt, need, kept

    def _filtered_pairs(self, qlen, need, kept, chosen: np.ndarray):
        """Distinct (query, item) candidate pairs of the filtered queries in `chosen` (sorted)."""
        n, d = len(self.titles), self.d
        out_q, out_i = [], []
        mine = np.zeros(len(qlen), dtype=bool)
        mine[chosen] = True
        for owner, rank, a, cnt, q in kept:
            sel = mine[owner]
            o, r, at, c = owner[sel], rank[sel], a[sel], cnt[sel]
            idx = ranges(at, c)
            pq, item, pr = np.repeat(o, c), self.grams[q].items[idx], np.repeat(r, c)
            ok = np.abs(self.lengths[item] - qlen[pq]) <= d
            pq, item, pr = pq[ok], item[ok], pr[ok]
            key = np.sort((pq * n + item) * 16 + pr)  # rank < q*d+1+_EXTRA <= 16
            new = np.ones(len(key), dtype=bool)
            new[1:] = key[1:] != key[:-1]
            pair = key[new] // 16                   # one entry per (pair, occurrence) held
            start = np.ones(len(pair), dtype=bool)
            start[1:] = pair[1:] != pair[:-1]
            first = np.flatnonzero(start)
            held = np.diff(np.append(first, len(pair)))
            pair = pair[first]
            pair = pair[held >= need[pair // n]]
            out_q.append(pair // n)
            out_i.append(pair % n)
        if not out_q:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.concatenate(out_q), np.concatenate(out_i)

    # -- verification ---------------------------------------------------------------------------
    def nearest_many(self, queries: list[str]) -> tuple[np.ndarray, np.ndarray]:
        """(index, distance) per query of the closest title within distance d, ties the lowest index;
        (-1, -1) where there is none."""
        nq, n, d = len(queries), len(self.titles), self.d
        best = np.full(nq, -1, dtype=np.int64)
        dist = np.full(nq, -1, dtype=np.int64)
        if not nq or not n:
            return best, dist
        qlen, lo, hi, filt, need, kept = self._plan(queries)
        qobj = _objects(queries)
        # filtered queries, in chunks of about _PAIRS kept postings
        fq = np.flatnonzero(filt)
        if len(fq):
            cost = np.zeros(nq, dtype=np.int64)
            for owner, _, _, cnt, _ in kept:
                cost += np.bincount(owner, weights=cnt, minlength=nq).astype(np.int64)
            for chunk in _chunks(fq, cost[fq], _PAIRS):
                pq, item = self._filtered_pairs(qlen, need, kept, chunk)
                if not len(pq):
                    continue
                dd = process.cpdist(qobj[pq], self._objects[item], scorer=Levenshtein.distance,
                                    score_cutoff=d, workers=1).astype(np.int64)
                ok = dd <= d
                key = np.full(nq, (d + 1) * n, dtype=np.int64)
                np.minimum.at(key, pq[ok], dd[ok] * n + item[ok])
                hit = np.flatnonzero(key < (d + 1) * n)
                best[hit], dist[hit] = key[hit] % n, key[hit] // n
        # length-window queries: one cdist block per query length
        wq = np.flatnonzero(~filt & (hi > lo))
        wq = wq[np.argsort(qlen[wq], kind="stable")]
        for group in np.split(wq, np.flatnonzero(np.diff(qlen[wq])) + 1) if len(wq) else ():
            a, b = int(lo[group[0]]), int(hi[group[0]])
            items = np.sort(self._by_length[a:b])
            titles = self._objects[items]
            for chunk in _chunks(group, np.full(len(group), b - a), _CELLS):
                m = process.cdist(qobj[chunk], titles, scorer=Levenshtein.distance, score_cutoff=d,
                                  dtype=np.int32, workers=1)
                j = m.argmin(axis=1)  # the first minimum: the lowest index
                md = m[np.arange(len(chunk)), j]
                ok = md <= d
                best[chunk[ok]], dist[chunk[ok]] = items[j[ok]], md[ok]
        return best, dist

    def nearest(self, query: str) -> tuple[int, int]:
        """(index, distance) of the closest title within distance d, ties the lowest index; (-1, -1)."""
        i, dist = self.nearest_many([query])
        return int(i[0]), int(dist[0])

    def candidates(self, query: str) -> list[int]:
        """Sorted indices of every title that can be within distance d of `query` (and maybe more)."""
        if not self.titles:
            return []
        qlen, lo, hi, filt, need, kept = self._plan([query])
        if filt[0]:
            return self._filtered_pairs(qlen, need, kept, np.zeros(1, dtype=np.int64))[1].tolist()
        return sorted(self._by_length[lo[0]:hi[0]].tolist())


def _objects(strings: list[str]) -> np.ndarray:
    """A 1-d object array of the strings (for gathering them by index arrays)."""
    out = np.empty(len(strings), dtype=object)
    out[:] = strings
    return out


def _chunks(ids: np.ndarray, cost: np.ndarray, budget: int):
    """Split `ids` into consecutive runs whose costs sum to about `budget` (at least one id each)."""
    if not len(ids):
        return
    cut = np.flatnonzero(np.diff(np.cumsum(cost) // max(budget, 1))) + 1
    yield from np.split(ids, cut)


def nearest_by_scan(titles: list[str], query: str, max_distance: int = MAX_DISTANCE) -> tuple[int, int]:
    """The naive reference: one Levenshtein distance per catalog title (tests and the benchmark)."""
    best = (-1, -1)
    for i, t in enumerate(titles):
        dist = Levenshtein.distance(query, t, score_cutoff=max_distance)
        if dist <= max_distance and (best[0] < 0 or dist < best[1]):
            best = (i, dist)
    return best
