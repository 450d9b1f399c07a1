"""Legality of each position (spec §3, §7), for a whole batch of lists at once.

The batch is flat: line t belongs to list `row[t]` at 0-based position `pos[t]` and grounds to
catalog index `item[t]` (-1: non-existent). Lines of one list are contiguous and in order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Flags:
    """Independent per-line flags; `illegal` is their union with `beyond` (p >= k)."""

    nonexistent: np.ndarray
    repeat: np.ndarray
    in_history: np.ndarray
    beyond: np.ndarray
    illegal: np.ndarray


def pair_keys(row: np.ndarray, item: np.ndarray, n_items: int) -> np.ndarray:
    """One int64 per (list, item) pair; -1 items get keys no real item has."""
    return row.astype(np.int64) * (n_items + 1) + (item + 1)


def unique_first(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct keys and the index of each one's first occurrence (np.unique with
    return_index, by a stable sort; numpy 2's hash-based unique is many times slower here)."""
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    first = np.ones(len(sk), dtype=bool)
    first[1:] = sk[1:] != sk[:-1]
    return sk[first], order[first]


def lookup(sorted_keys: np.ndarray, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each key: (found in sorted_keys?, its position there, valid only where found)."""
    if not len(sorted_keys):
        return np.zeros(len(keys), dtype=bool), np.zeros(len(keys), dtype=np.int64)
    at = np.minimum(np.searchsorted(sorted_keys, keys), len(sorted_keys) - 1)
    return sorted_keys[at] == keys, at


def legality(row: np.ndarray, pos: np.ndarray, item: np.ndarray, k_of_row: np.ndarray,
             history_keys: np.ndarray, n_items: int) -> Flags:
    """Flags of every line. `history_keys`: sorted distinct `pair_keys` of (list, history item)."""
    nonexistent = item < 0
    keys = pair_keys(row, item, n_items)
    # A repeat is a grounded line whose (list, item) pair already occurred at an earlier line; a
    # stable sort keeps lines in order within equal keys, so "equal to the previous key" is a repeat.
    order = np.argsort(keys, kind="stable")
    sk = keys[order]
    later = np.zeros(len(keys), dtype=bool)
    later[1:] = sk[1:] == sk[:-1]
    repeat = np.zeros(len(keys), dtype=bool)
    repeat[order] = later
    repeat &= ~nonexistent
    in_history = lookup(history_keys, keys)[0] & ~nonexistent
    beyond = pos >= k_of_row[row]
    illegal = nonexistent | repeat | in_history | beyond
    return Flags(nonexistent, repeat, in_history, beyond, illegal)
