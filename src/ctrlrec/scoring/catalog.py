"""The catalog as prebuilt indexes: titles -> items (spec §2.2) and items x categories.

Items keep the catalog's row order: "the earlier catalog item" of a tie (spec §2.2 and §7) is the
earlier row, whatever its item_id. Internally an item is its row position (its *index*); for a
prepared dataset (ids 0..n-1 in row order) index and item_id are the same number.

Item ids are either all integers (kept as they are) or strings (`m0001`, `tt1`, ASINs): string ids
are mapped to dense internal ints (the row index) and mapped back with `external_id`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ctrlrec.errors import CtrlrecError
from ctrlrec.scoring.fuzzy import FuzzyIndex
from ctrlrec.scoring.parse import normalise

_CACHE_MAX = 1 << 20


class Catalog:
    """Exact and normalised title maps, a lazily built fuzzy index, and category membership."""

    def __init__(self, item_ids, titles, categories):
        raw = list(item_ids)
        n = len(raw)
        if len(titles) != n or len(categories) != n:
            raise CtrlrecError("catalog: item_id, title and categories must have the same length")
        self.labels: list[str] | None = None  # the user's string ids, by index; None: integer ids
        self.label_index: dict[str, int] = {}
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in raw):
            ids = np.asarray(raw, dtype=np.int64).reshape(-1)
        else:
            labels = [str(v) for v in raw]
            for i, v in enumerate(labels):
                if not v:
                    raise CtrlrecError(f"catalog: row {i + 1}: item_id {raw[i]!r}: expected a "
                                       "non-empty string or a non-negative integer")
                if self.label_index.setdefault(v, i) != i:
                    raise CtrlrecError(f"catalog: row {i + 1}: item_id {v!r} appears twice; "
                                       "expected unique item ids")
            self.labels = labels
            ids = np.arange(n, dtype=np.int64)
        self.ids = ids  # row order
        self._order = np.argsort(ids, kind="stable")  # for id -> index look-ups
        self._sorted = ids[self._order]
        if n and np.any(self._sorted[1:] == self._sorted[:-1]):
            dup = int(self._sorted[1:][self._sorted[1:] == self._sorted[:-1]][0])
            raise CtrlrecError(f"catalog: item_id {dup} appears twice; expected unique item ids")
        self.dense = bool(np.array_equal(ids, np.arange(n)))
        self.titles: list[str] = [str(t) for t in titles]
        cats = [list(c) for c in categories]
        self.categories: list[list[str]] = cats  # each item's categories, in the dataset's order
        self.category_names: list[str] = sorted({c for cs in cats for c in cs})
        self.category_index = {c: j for j, c in enumerate(self.category_names)}
        self.exact: dict[str, int] = {}
        self.normalised: dict[str, int] = {}
        for i, t in enumerate(self.titles):
            self.exact.setdefault(t, i)
            self.normalised.setdefault(normalise(t), i)
        self._fuzzy: FuzzyIndex | None = None
        self._cache: dict[str, int] = {}
        self._build_membership(cats)

    @classmethod
    def from_frame(cls, df: pd.DataFrame) -> Catalog:
        """From a table with columns item_id, title, categories (a list of strings per item)."""
        missing = {"item_id", "title", "categories"} - set(df.columns)
        if missing:
            raise CtrlrecError(f"catalog table lacks columns {sorted(missing)}; "
                               "expected item_id, title, categories")
        return cls(df["item_id"].to_numpy(), df["title"].tolist(), df["categories"].tolist())

    def __len__(self) -> int:
        return len(self.titles)

    # -- categories -------------------------------------------------------------------------
    def _build_membership(self, cats: list[list[str]]) -> None:
        n, m = len(cats), len(self.category_names)
        rows = np.fromiter((i for i, cs in enumerate(cats) for _ in cs), dtype=np.int64)
        cols = np.fromiter((self.category_index[c] for cs in cats for c in cs), dtype=np.int64)
        self._n_cat = m
        if n * m <= 50_000_000:  # a dense bool matrix when it is small, sorted pair keys otherwise
            self._matrix: np.ndarray | None = np.zeros((n + 1, max(m, 1)), dtype=bool)
            self._matrix[rows, cols] = True  # row n stays False: index -1 (non-existent) lands there
            self._keys = None
        else:
            self._matrix = None
            self._keys = np.unique(rows * m + cols)

    def category(self, name: str) -> int:
        """The index of category `name`; a CtrlrecError naming the known ones if it is unknown."""
        try:
            return self.category_index[name]
        except KeyError:
            known = ", ".join(self.category_names[:30]) + (" ..." if len(self.category_names) > 30 else "")
            raise CtrlrecError(f"category {name!r} is unknown to the catalog; expected one of: {known}") \
                from None

    def in_category(self, index, category) -> np.ndarray:
        """Element-wise: is item `index` (-1 = non-existent, never in) in category `category` (index)?"""
        index = np.asarray(index, dtype=np.int64)
        category = np.asarray(category, dtype=np.int64)
        if self._matrix is not None:
            return self._matrix[index, category]  # -1 picks the all-False last row
        keys = index * self._n_cat + category
        pos = np.minimum(np.searchsorted(self._keys, keys), len(self._keys) - 1)
        return (index >= 0) & (len(self._keys) > 0) & (self._keys[pos] == keys)

    # -- ids ------------------------------------------------------------------------------------
    def index_of(self, item_ids, what: str = "item id") -> np.ndarray:
        """Indexes of external item ids; a CtrlrecError for an id the catalog does not have.
        With string ids, a string is one of the user's ids and an int is an internal index."""
        if self.labels is not None:
            vals = item_ids.tolist() if isinstance(item_ids, np.ndarray) else item_ids
            vals = list(vals) if isinstance(vals, (list, tuple)) else [vals]
            if any(isinstance(v, str) for v in vals):
                out = []
                for v in vals:
                    i = self.label_index.get(v) if isinstance(v, str) else None
                    if i is None and not isinstance(v, str):
                        i = int(self.index_of([v], what)[0])
                    if i is None:
                        raise CtrlrecError(f"{what} {v!r} is not in the catalog")
                    out.append(i)
                return np.asarray(out, dtype=np.int64)
        ids = np.asarray(item_ids, dtype=np.int64).reshape(-1)
        if self.dense:
            bad = (ids < 0) | (ids >= len(self))
            pos = ids
        else:
            at = np.minimum(np.searchsorted(self._sorted, ids), max(len(self) - 1, 0))
            bad = (self._sorted[at] != ids) if len(self) else np.ones(len(ids), dtype=bool)
            pos = self._order[at] if len(self) else at
        if bad.any():
            raise CtrlrecError(f"{what} {int(ids[bad][0])} is not in the catalog")
        return pos

    def id_of(self, index: int) -> int:
        """The internal int id of an index (the index itself for string ids)."""
        return int(self.ids[index])

    def external_id(self, index: int) -> int | str:
        """The user's own id of an index: its string id, or its integer item_id."""
        return self.labels[index] if self.labels is not None else int(self.ids[index])

    # -- grounding (spec §2.2) ---------------------------------------------------------------
    @property
    def fuzzy(self) -> FuzzyIndex:
        if self._fuzzy is None:
            self._fuzzy = FuzzyIndex(self.titles)
        return self._fuzzy

    def ground(self, raw: str) -> int:
        """Index of the item a raw title grounds to, or -1 if it is non-existent."""
        i = self.exact.get(raw)
        if i is not None:
            return i
        i = self._cache.get(raw)
        if i is None:
            i = self._ground_slow(raw)
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[raw] = i
        return i

    def _ground_slow(self, raw: str) -> int:
        if not raw:  # spec §7: an empty raw title is non-existent
            return -1
        i = self.normalised.get(normalise(raw))
        if i is not None:
            return i
        return self.fuzzy.nearest(raw)[0]

    def ground_many(self, raws: list[str]) -> np.ndarray:
        """`ground` over a batch: one dict probe per title; the slow steps once per distinct miss,
        with the fuzzy step for all of them at once."""
        get = self.exact.get
        out = np.fromiter([get(t, -2) for t in raws], dtype=np.int64, count=len(raws))
        miss = np.flatnonzero(out == -2).tolist()
        if not miss:
            return out
        cache = self._cache
        found: dict[str, int] = {}
        fuzzy: list[str] = []
        norm = self.normalised.get
        for j in miss:
            t = raws[j]
            if t in found:
                continue
            i = cache.get(t)
            if i is None:
                i = norm(normalise(t), -2) if t else -1  # spec §7: an empty raw title is non-existent
                if i == -2:
                    fuzzy.append(t)
            found[t] = i
        if fuzzy:
            for t, i in zip(fuzzy, self.fuzzy.nearest_many(fuzzy)[0].tolist(), strict=True):
                found[t] = i
        if len(cache) + len(found) > _CACHE_MAX:
            cache.clear()
        cache.update(found)
        out[miss] = [found[raws[j]] for j in miss]
        return out

    def ground_input(self, title, what: str) -> int:
        """A title or item id given as input (history, target): its index, or a CtrlrecError."""
        if isinstance(title, bool):
            raise CtrlrecError(f"{what} must be a catalog title or an item id (got {title!r})")
        if isinstance(title, int):
            return int(self.index_of([title], what)[0])
        if not isinstance(title, str):
            raise CtrlrecError(f"{what} must be a catalog title or an item id (got {title!r})")
        i = self.exact.get(title)
        if i is None and self.labels is not None:
            i = self.label_index.get(title)  # one of the user's string ids
        if i is None:
            i = self.ground(title)
        if i < 0:
            raise CtrlrecError(f"{what} {title!r} is not a title of the catalog")
        return i
