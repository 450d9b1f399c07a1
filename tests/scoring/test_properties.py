"""Property-based tests: the vectorised module equals the plain reference, scores stay in their
bounds, the catalog's row order changes nothing where no grounding ties (titles here are distinct
enough that none do; ties go to the earlier row, see test_parse_ground), and the teacher's own
filtered top-k scores best."""

import math
import random
from fractions import Fraction

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ctrlrec.scoring import Case, Catalog, Intent, score_batch
from tests.scoring.reference import reference

CATS = ["A", "B", "C"]
SHARES = [0.0, 0.1, 0.2, 0.25, 0.3, 0.5, 0.7, 1.0]
SETTINGS = settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def catalogs(draw, min_items=4, max_items=24):
    n = draw(st.integers(min_items, max_items))
    ids = draw(st.permutations(range(n)))  # row order is not id order
    rows = [(i, f"Film {chr(65 + i % 26)}{i} ({1950 + i})",
             sorted(set(draw(st.lists(st.sampled_from(CATS), max_size=2)) + CATS[i:i + 1])))
            for i in ids]  # items 0, 1, 2 make sure every category exists
    return rows


def intents(kinds=("I0", "I1+", "I1-", "I2<=", "I2~", "I2>=", "I3")):
    def make(kind, c, m):
        if kind == "I0":
            return Intent("I0")
        return Intent(kind, c, m if kind.startswith("I2") else None)
    return st.builds(make, st.sampled_from(kinds), st.sampled_from(CATS), st.sampled_from(SHARES))


@st.composite
def cases(draw, n):
    k = draw(st.integers(1, 8))
    parts = draw(st.lists(intents(), min_size=1, max_size=2))
    line = st.one_of(st.integers(0, n - 1).map(lambda i: ("item", i)),
                     st.sampled_from([("raw", "No such film"), ("raw", "3."), ("raw", ""),
                                      ("typo", 0), ("typo", 1)]))
    lines = draw(st.lists(line, max_size=12))
    history = draw(st.lists(st.integers(0, n - 1), max_size=4))
    target = draw(st.none() | st.integers(0, n - 1))
    teacher = draw(st.none() | st.permutations(range(n)).map(list))
    return k, parts, lines, history, target, teacher


def render(rows, lines):
    title = {i: t for i, t, _ in rows}
    out = []
    for p, (what, x) in enumerate(lines):
        if what == "item":
            out.append(f"{p + 1}. {title[x]}")
        elif what == "typo":
            out.append(f"{p + 1}. {title[x].replace('Film', 'Flim')}")
        else:
            out.append(x)
    return "\n".join(out)


def build(rows, batch):
    cat = Catalog.from_frame(pd.DataFrame(rows, columns=["item_id", "title", "categories"]))
    cs = [Case(render(rows, lines), k, parts, history, target, teacher)
          for k, parts, lines, history, target, teacher in batch]
    return cat, cs, score_batch(cat, cs)


@SETTINGS
@given(st.data())
def test_vectorised_equals_reference_and_bounds(data):
    rows = data.draw(catalogs())
    batch = data.draw(st.lists(cases(len(rows)), min_size=1, max_size=6))
    cat, cs, res = build(rows, batch)
    for i, c in enumerate(cs):
        r = res[i]
        idx = lambda ids: cat.index_of(ids).tolist() if len(ids) else []  # noqa: E731
        target = None if c.target is None else idx([c.target])[0]
        ref = reference(cat, c.output, c.k, c.intents, idx(c.history), target, idx(c.teacher or []))
        assert r.item_ids == [None if j < 0 else int(cat.ids[j]) for j in ref["items"]]
        assert r.illegal.tolist() == ref["illegal"]
        assert r.preference.tolist() == pytest.approx(ref["S"])
        assert r.control.tolist() == pytest.approx(ref["ctl"])
        assert r.item_rewards.tolist() == pytest.approx(ref["R_item"])
        assert r.list_reward == pytest.approx(ref["R_list"])
        m = r.metrics
        for name, v in ref["metrics"].items():
            assert m[name] == pytest.approx(v) if v is not None else m[name] is None, name
        parts = m.get("parts") or [{"TCP": m["TCP"], "CPA": m["CPA"]}]
        assert parts == [pytest.approx(p) if p["TCP"] is not None else p for p in ref["parts"]]
        # bounds
        assert np.all((r.preference >= -1) & (r.preference <= 1))
        assert np.all((r.control >= -1) & (r.control <= 1))
        assert np.all((r.item_rewards >= -1) & (r.item_rewards <= 1))
        for name in ("HR", "NDCG", "TCP", "CPA", "CorrectCount", "RepeatItem", "NonExist", "InHistory"):
            assert m[name] is None or 0 <= m[name] <= 1
        for p in parts:
            assert p["TCP"] is None or 0 <= p["TCP"] <= 1
        top = sum(1 / math.log2(p + 2) for p in range(c.k))  # sum S* <= this, >= -lines
        lines = len(r.items)
        if all(x.kind != "I0" for x in c.intents):
            assert -0.5 * lines + 0.5 / math.log2(c.k + 2) - 1e-9 <= r.list_reward
            assert 0 < r.list_control <= 1
        assert r.list_reward <= top + 1e-9


@SETTINGS
@given(st.data())
def test_catalog_row_order_changes_nothing(data):
    rows = data.draw(catalogs())
    batch = data.draw(st.lists(cases(len(rows)), min_size=1, max_size=4))
    shuffled = data.draw(st.permutations(rows))
    _, _, a = build(rows, batch)
    _, _, b = build(list(shuffled), batch)
    for i in range(len(a)):
        assert a.to_json(i) == b.to_json(i)


def _best_ctl(kind, k, km):
    f = {"I2<=": lambda c: max(c - km, 0), "I2>=": lambda c: max(km - c, 0),
         "I2~": lambda c: abs(c - km)}[kind]
    return max(1 / math.log2(float(f(c)) + 2) for c in range(k + 1))


@SETTINGS
@given(st.data())
def test_teacher_top_k_under_the_filter_scores_best(data):
    rows = data.draw(catalogs(min_items=12, max_items=30))
    n = len(rows)
    cat = Catalog.from_frame(pd.DataFrame(rows, columns=["item_id", "title", "categories"]))
    kind = data.draw(st.sampled_from(["I0", "I1+", "I1-", "I2<=", "I2~", "I2>=", "I3"]))
    intent = data.draw(intents((kind,)))
    k = data.draw(st.integers(1, 6))
    rng = random.Random(data.draw(st.integers(0, 10**6)))
    teacher = list(range(n))
    rng.shuffle(teacher)
    history = [] if kind == "I3" else rng.sample(range(n), 3)
    pool = [i for i in teacher if i not in history]
    if kind == "I0":
        picks = pool[:k]
    else:
        c = cat.category(intent.category)
        inside = [i for i in pool if cat.in_category(cat.index_of([i]), [c])[0]]
        outside = [i for i in pool if not cat.in_category(cat.index_of([i]), [c])[0]]
        km = k * intent.share
        want = {"I1+": k, "I3": k, "I1-": 0, "I2<=": math.floor(km), "I2>=": math.ceil(km),
                "I2~": math.floor(km + Fraction(1, 2))}[kind]
        assume(len(inside) >= want and len(outside) >= k - want)
        chosen = set(inside[:want] + outside[:k - want])
        picks = [i for i in teacher if i in chosen]  # the teacher's order
    assume(len(picks) == k)
    title = {i: t for i, t, _ in rows}
    text = "\n".join(f"{p + 1}. {title[i]}" for p, i in enumerate(picks))
    r = score_batch(cat, [Case(text, k, intent, history, None, teacher)])[0]
    assert not r.illegal.any()
    if kind == "I0":
        best = sum(1 / math.log2(teacher.index(i) + 3) / math.log2(p + 2) for p, i in enumerate(pool[:k]))
        assert r.list_control == pytest.approx(best)
    elif kind in ("I1+", "I3", "I1-"):
        assert r.control.tolist() == [1.0] * k
        assert r.list_control == 1.0
        assert r.metrics["TCP"] == (0.0 if kind == "I1-" else 1.0)
    else:
        assert r.metrics["CPA"] == 1
        assert r.list_control == pytest.approx(_best_ctl(kind, k, k * intent.share))
