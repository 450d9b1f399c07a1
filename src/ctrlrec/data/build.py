"""From raw records to the canonical dataset: dedup, time sort, iterative k-core, dense ids.

Sources stream (user key, item key, timestamp) records into an `InteractionBuilder`, which keeps
them as compact integer arrays (string keys are interned once), so prepare's memory grows with the
number of interactions times ~16 bytes plus the distinct keys, never with the raw file's size.
"""

from __future__ import annotations

from array import array
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ctrlrec.data.dataset import Dataset
from ctrlrec.errors import CtrlrecError


@dataclass
class FilterConfig:
    """Which users and items a prepared dataset keeps.

    user_core / item_core: iterative k-core, every kept user has >= user_core interactions and every
    kept item >= item_core (repeated until both hold). 0 or 1 disables a side.
    merge_duplicate_titles: items that share a title become one item (the first in the catalog,
    with the union of the categories). A language model names items by title, so two items with one
    title could never be told apart (ml-100k lists 18 movies twice under two ids).
    """

    user_core: int = 5
    item_core: int = 5
    merge_duplicate_titles: bool = True

    def to_dict(self) -> dict:
        return asdict(self)


class InteractionBuilder:
    """Accumulates interactions as int arrays; user and item keys are interned to codes."""

    def __init__(self) -> None:
        self.user_codes: dict[str, int] = {}
        self.item_codes: dict[str, int] = {}
        self._u = array("l")
        self._i = array("l")
        self._t = array("q")

    def add(self, user: str, item: str, timestamp: int) -> None:
        u = self.user_codes.setdefault(user, len(self.user_codes))
        i = self.item_codes.setdefault(item, len(self.item_codes))
        self._u.append(u)
        self._i.append(i)
        self._t.append(int(timestamp))

    def __len__(self) -> int:
        return len(self._u)

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return (
            np.frombuffer(self._u, dtype=np.int64 if self._u.itemsize == 8 else np.int32),
            np.frombuffer(self._i, dtype=np.int64 if self._i.itemsize == 8 else np.int32),
            np.frombuffer(self._t, dtype=np.int64),
        )


def kcore(users: np.ndarray, items: np.ndarray, user_core: int, item_core: int) -> np.ndarray:
    """Boolean mask of interactions that survive the iterative k-core filter."""
    keep = np.ones(len(users), dtype=bool)
    if user_core <= 1 and item_core <= 1:
        return keep
    n_u = int(users.max()) + 1 if len(users) else 0
    n_i = int(items.max()) + 1 if len(items) else 0
    while True:
        u_cnt = np.bincount(users[keep], minlength=n_u)
        i_cnt = np.bincount(items[keep], minlength=n_i)
        bad = keep & ((u_cnt[users] < user_core) | (i_cnt[items] < item_core))
        if not bad.any():
            return keep
        keep &= ~bad


def canonicalize(
    name: str,
    builder: InteractionBuilder,
    items: pd.DataFrame,
    filt: FilterConfig,
    meta: dict | None = None,
) -> Dataset:
    """Build the canonical dataset.

    `items` has columns source_id (str), title (str), categories (list[str]); rows are the catalog
    in source order. Interactions with items missing from it are dropped (counted in meta).
    Duplicates of a (user, item) pair keep the earliest interaction (ties: the first in the file).
    """
    meta = dict(meta or {})
    u, i, t = builder.arrays()
    raw_count = len(u)
    steps = [("raw", _counts(u, i))]
    order_in_file = np.arange(raw_count)

    # Map item codes to catalog rows; unknown items -> -1; duplicate titles -> their first row.
    items = items.reset_index(drop=True)
    n_merged, merged_examples = 0, []
    if filt.merge_duplicate_titles:
        items, canon = _merge_titles(items)
        dup = np.flatnonzero(canon != np.arange(len(items)))
        n_merged = len(dup)
        merged_examples = list(dict.fromkeys(items["title"].iloc[dup].tolist()))[:5]
    else:
        canon = np.arange(len(items))
    row_of_key = {k: int(canon[r]) for r, k in enumerate(items["source_id"].tolist())}
    keys = np.empty(len(builder.item_codes), dtype=object)
    for key, code in builder.item_codes.items():
        keys[code] = key
    code_to_row = np.fromiter((row_of_key.get(k, -1) for k in keys), dtype=np.int64, count=len(keys))
    row = code_to_row[i] if raw_count else np.empty(0, dtype=np.int64)
    known = row >= 0
    u, row, t, order_in_file = u[known], row[known], t[known], order_in_file[known]
    steps.append(("on catalog items (with title and category)", _counts(u, row)))

    # Sort by user, time, file order (stable), then keep the first of each (user, item).
    order = np.lexsort((order_in_file, t, u))
    u, row, t = u[order], row[order], t[order]
    pair = u.astype(np.int64) * (len(items) + 1) + row
    _, first = np.unique(pair, return_index=True)
    first.sort()
    dup_count = len(u) - len(first)
    u, row, t = u[first], row[first], t[first]
    steps.append(("repeated user-item pairs removed", _counts(u, row)))

    keep = kcore(u, row, filt.user_core, filt.item_core)
    u, row, t = u[keep], row[keep], t[keep]
    steps.append((f"{filt.user_core}-core users / {filt.item_core}-core items", _counts(u, row)))
    if len(u) == 0:
        raise CtrlrecError(_emptied_message(name, steps, filt, len(items)))

    # Dense ids: items in catalog order, users in order of their source key.
    kept_rows = np.unique(row)
    new_item = np.full(len(items), -1, dtype=np.int64)
    new_item[kept_rows] = np.arange(len(kept_rows))
    user_keys = np.empty(len(builder.user_codes), dtype=object)
    for key, code in builder.user_codes.items():
        user_keys[code] = key
    kept_users = np.unique(u)
    user_rank = np.argsort(user_keys[kept_users].astype(str), kind="stable")
    new_user = np.full(len(user_keys), -1, dtype=np.int64)
    new_user[kept_users[user_rank]] = np.arange(len(kept_users))

    inter = pd.DataFrame(
        {"user_id": new_user[u], "item_id": new_item[row], "timestamp": t.astype(np.int64)}
    )
    inter = inter.sort_values(["user_id", "timestamp"], kind="stable").reset_index(drop=True)
    catalog = items.iloc[kept_rows].reset_index(drop=True)
    catalog.insert(0, "item_id", np.arange(len(catalog), dtype=np.int64))
    users = pd.DataFrame(
        {
            "user_id": np.arange(len(kept_users), dtype=np.int64),
            "source_id": user_keys[kept_users[user_rank]].astype(str),
        }
    )
    meta.update(
        {
            "filter": filt.to_dict(),
            "raw": {
                "interactions": int(raw_count),
                "users": len(builder.user_codes),
                "items_in_interactions": len(builder.item_codes),
                "catalog_items": len(items),
                "unknown_item_interactions": int((~known).sum()),
                "duplicates_removed": int(dup_count),
                "items_merged_by_title": n_merged,
                "merged_titles_examples": merged_examples,
            },
        }
    )
    return Dataset(name=name, catalog=catalog, interactions=inter, users=users, meta=meta)


def _counts(users: np.ndarray, items: np.ndarray) -> tuple[int, int, int]:
    """(users, items, interactions) among these interactions."""
    return len(np.unique(users)), len(np.unique(items)), len(users)


def _emptied_message(name: str, steps: list, filt: FilterConfig, n_catalog: int) -> str:
    """One line: the counts before and after each step, the step that left nothing, what to change."""
    trail = " -> ".join(f"{label}: {u:,} users/{i:,} items/{n:,} interactions"
                        for label, (u, i, n) in steps)
    emptied = next(label for label, (_, _, n) in steps if n == 0)
    if emptied == "raw":
        hint = "the interactions file has no usable lines"
    elif emptied.startswith("on catalog"):
        hint = (f"no interaction is on one of the {n_catalog:,} catalog items with a title and a "
                "category; check that the items file matches the interactions file")
    else:
        hint = (f"lower --user-core (now {filt.user_core}) or --item-core (now {filt.item_core}), "
                "or use a larger file")
    return f"prepare {name}: no interactions left after '{emptied}' ({trail}); {hint}"


# category values that mean "none" (MovieLens' "(no genres listed)"): dropped when a merge brings real ones
PLACEHOLDER_CATEGORIES = frozenset({"(no genres listed)"})


def _merge_titles(items: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """canon[r] = the first row with row r's title; that row gets the union of the categories."""
    first = items.groupby("title", sort=False).cumcount() == 0
    head_of = {t: r for r, t in zip(np.flatnonzero(first), items["title"][first], strict=True)}
    canon = np.array([head_of[t] for t in items["title"]], dtype=np.int64)
    dup = np.flatnonzero(canon != np.arange(len(items)))
    if len(dup):
        items = items.copy()
        cats = items["categories"].tolist()
        for r in dup:
            head = canon[r]
            merged = list(dict.fromkeys(list(cats[head]) + list(cats[r])))
            real = [c for c in merged if c not in PLACEHOLDER_CATEGORIES]
            cats[head] = real or merged  # a placeholder is not mixed into real categories
        items["categories"] = cats
    return items, canon
