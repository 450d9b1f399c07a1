"""The one judgement of a generated list: parse, ground, legality, metrics, rewards (spec §2-§5).

`score_batch` does a whole batch with flat numpy arrays (one entry per parsed line, or per line of
each intent part); `score` is the one-list convenience. Rewards are the unamplified values of §5.
"""

from __future__ import annotations

import gc
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from ctrlrec.errors import CtrlrecError
from ctrlrec.scoring import legality as leg
from ctrlrec.scoring import metrics as met
from ctrlrec.scoring import rewards as rw
from ctrlrec.scoring.catalog import Catalog
from ctrlrec.scoring.intents import KIND_CODE, Intent, as_intents, check_k
from ctrlrec.scoring.parse import as_text, parse_many
from ctrlrec.scoring.result import BatchScores

Teacher = np.ndarray | Sequence[int | None] | None


@dataclass
class Case:
    """One generated list and what it is judged against.

    output: the generated text (or its lines). history / target: catalog item ids (target None when
    the task has none, e.g. I3; HR and NDCG are then null). teacher: the teacher's ranking, either a
    numpy array of 0-based ranks indexed by item id (dense catalogs), or item ids best first (None
    entries hold a rank without naming an item); items it does not rank get r = catalog size.
    """

    output: str | Sequence[str]
    k: int
    intent: Intent | str | Sequence[Intent]
    history: Sequence[int] = ()
    target: int | None = None
    teacher: Teacher = None
    id: str | None = None
    intents: tuple[Intent, ...] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        check_k(self.k)
        self.intents = as_intents(self.intent)


def score(catalog: Catalog, text_or_lines: str | Sequence[str], k: int,
          intent: Intent | str | Sequence[Intent], history_ids: Sequence[int] = (),
          target_id: int | None = None, teacher_rank: Teacher = None):
    """Score one generated list; returns a `ScoreResult`."""
    case = Case(text_or_lines, k, intent, history_ids, target_id, teacher_rank)
    return score_batch(catalog, [case])[0]


def _parse(cases: Sequence[Case]):
    return parse_many([as_text(c.output) for c in cases])


def _history_keys(catalog: Catalog, cases: Sequence[Case]) -> np.ndarray:
    ids, lens = _flat_ids([c.history for c in cases], "history item id")
    if not len(ids):
        return np.empty(0, dtype=np.int64)
    idx = catalog.index_of(ids, "history item id")
    return leg.unique_first(leg.pair_keys(np.repeat(np.arange(len(cases)), lens), idx, len(catalog)))[0]


def _flat_ids(seqs: list, what: str) -> tuple[np.ndarray, np.ndarray]:
    """Concatenate id sequences into one int64 array (None -> -1) and give each entry its sequence."""
    lens = np.fromiter((len(x) for x in seqs), dtype=np.int64, count=len(seqs))
    flat = list(chain.from_iterable(seqs))
    try:
        ids = np.asarray(flat, dtype=np.int64)
    except (TypeError, ValueError):
        try:
            ids = np.asarray([-1 if x is None else x for x in flat], dtype=np.int64)
        except (TypeError, ValueError):
            raise CtrlrecError(f"{what}s must be integer item ids") from None
    return ids.reshape(-1), lens


def _ranks(catalog: Catalog, cases: Sequence[Case], row, item, offsets) -> np.ndarray:
    """r(item) of every line: the first rank the case's teacher gives it, else the catalog size."""
    n = len(catalog)
    rank = np.full(len(item), n, dtype=np.int64)
    listed, seqs = [], []
    for i, c in enumerate(cases):
        t = c.teacher
        if t is None:
            continue
        if isinstance(t, np.ndarray):
            if not catalog.dense:
                raise CtrlrecError("a teacher rank array needs a catalog with item ids 0..n-1; "
                                   "give the ranking as a list of item ids instead")
            if t.shape != (n,):
                raise CtrlrecError(f"teacher rank array has shape {t.shape}; expected ({n},)")
            s, e = offsets[i], offsets[i + 1]
            it = item[s:e]
            rank[s:e] = np.where(it >= 0, t[np.maximum(it, 0)], n)
        else:
            listed.append(i)
            seqs.append(t)
    if seqs:
        ids, lens = _flat_ids(seqs, "teacher item id")
        t_row = np.repeat(np.asarray(listed, dtype=np.int64), lens)
        t_rank = np.arange(len(ids)) - np.repeat(np.cumsum(lens) - lens, lens)
        keep = ids >= 0  # None entries hold a rank but name no item
        keys = leg.pair_keys(t_row[keep], catalog.index_of(ids[keep], "teacher item id"), n)
        keys, first = leg.unique_first(keys)  # first occurrence = its best rank
        found, at = leg.lookup(keys, leg.pair_keys(row, item, n))
        rank = np.where(found & (item >= 0), t_rank[keep][first][at] if len(keys) else n, rank)
    return np.clip(rank, 0, n)


def _targets(catalog: Catalog, cases: Sequence[Case]) -> np.ndarray:
    has = np.fromiter((c.target is not None for c in cases), dtype=bool, count=len(cases))
    target = np.full(len(cases), -1, dtype=np.int64)
    ids = [c.target for c in cases if c.target is not None]
    if ids:
        target[has] = catalog.index_of(ids, "target item id")
    return target


def _parts(catalog: Catalog, cases: Sequence[Case]):
    """Flat arrays over intent parts: case, kind code, category index, k, and k*m as num/den."""
    case, rows = [], []
    memo: dict = {}
    for i, c in enumerate(cases):
        for p in c.intents:
            key = (p, c.k)
            r = memo.get(key)
            if r is None:
                km = p.allowed(c.k)
                cat = catalog.category(p.category) if p.category is not None else 0
                r = memo[key] = (KIND_CODE[p.kind], cat, km.numerator, km.denominator)
            case.append(i)
            rows.append(r)
    arr = np.asarray(rows, dtype=np.int64).reshape(-1, 4)
    return np.asarray(case, dtype=np.int64), arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3]


def score_batch(catalog: Catalog, cases: Sequence[Case]) -> BatchScores:
    """Score many lists at once; index the result (`res[i]`) for one list's `ScoreResult`.

    The cyclic garbage collector is paused meanwhile (and restored after): the batch makes no
    reference cycles, but its many short-lived lists would trigger full collections that traverse
    every object the caller holds (about 10% of the time for 100,000 cases).
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        return _score_batch(catalog, cases)
    finally:
        if enabled:
            gc.enable()


def _score_batch(catalog: Catalog, cases: Sequence[Case]) -> BatchScores:
    b = len(cases)
    titles, n_lines = _parse(cases)
    item = catalog.ground_many(titles)
    offsets = np.concatenate(([0], np.cumsum(n_lines)))
    row = np.repeat(np.arange(b), n_lines)
    pos = np.arange(len(item)) - offsets[row]
    k = np.fromiter((c.k for c in cases), dtype=np.int64, count=b)
    target = _targets(catalog, cases)
    flags = leg.legality(row, pos, item, k, _history_keys(catalog, cases), len(catalog))
    legal = ~flags.illegal
    is_target = (item >= 0) & (item == target[row])
    s = rw.preference(flags.illegal, is_target, _ranks(catalog, cases, row, item, offsets))
    star = rw.discounted(flags.illegal, s, pos)
    sum_star = np.bincount(row, weights=star, minlength=b)

    p_case, p_kind, p_cat, p_num, p_den = _parts(catalog, cases)
    n_parts = np.bincount(p_case, minlength=b)
    plen = n_lines[p_case]
    pl_part = np.repeat(np.arange(len(p_case)), plen)
    p_off = np.concatenate(([0], np.cumsum(plen)))
    pl_line = offsets[p_case][pl_part] + (np.arange(len(pl_part)) - p_off[pl_part])
    pl_item = item[pl_line]
    in_c = catalog.in_category(pl_item, p_cat[pl_part]) & (p_kind[pl_part] != rw.I0)
    pk = k[p_case]
    ctl_pl, count_in, count_out = rw.control_scores(
        p_kind[pl_part], legal[pl_line], in_c, pl_part, len(p_case), pk[pl_part],
        p_num[pl_part], p_den[pl_part], s[pl_line])
    s_ctl = np.bincount(pl_line, weights=ctl_pl, minlength=len(item)) / n_parts[row]
    ctl_part = rw.list_control(p_kind, count_in, count_out, pk, p_num, p_den, sum_star[p_case])
    list_ctl = np.bincount(p_case, weights=ctl_part, minlength=b) / n_parts

    distinct = in_c & ~flags.repeat[pl_line] & (pos[pl_line] < pk[pl_part])
    parts = met.part_metrics(p_kind, pk, p_num, p_den,
                             np.bincount(pl_part, weights=distinct, minlength=len(p_case)))
    hit = legal & is_target
    lists = met.list_metrics(row, pos, n_lines, k, target >= 0, hit, flags)
    return BatchScores(
        catalog=catalog, cases=cases, offsets=offsets, titles=titles, item=item,
        flags=flags, preference=s, control=s_ctl, item_rewards=0.5 * s + 0.5 * s_ctl,
        list_control=list_ctl, list_reward=0.5 * sum_star + 0.5 * list_ctl,
        list_metrics=lists, part_case=p_case, part_metrics=parts, n_parts=n_parts)
