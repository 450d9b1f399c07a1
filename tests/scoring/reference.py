"""A deliberately plain, per-list implementation of spec §3-§5, written from the spec text alone:
the oracle that the vectorised module is compared against in the property tests."""

import math
from fractions import Fraction

from ctrlrec.scoring.parse import parse_lines


def reference(cat, text, k, intents, history, target, teacher):
    """-> dict(items, illegal, S, ctl, R_item, R_list, metrics, parts). Ids are catalog indexes."""
    n = len(cat)
    titles = parse_lines(text).titles
    items = [cat.ground(t) for t in titles]
    rank = {}
    for r, t in enumerate(teacher):
        if t is not None:
            rank.setdefault(t, r)
    hist = set(history)
    repeat, nonexist, inhist, illegal = [], [], [], []
    for p, it in enumerate(items):
        ne = it < 0
        rep = (not ne) and it in items[:p]
        ih = (not ne) and it in hist
        nonexist.append(ne)
        repeat.append(rep)
        inhist.append(ih)
        illegal.append(ne or rep or ih or p >= k)
    S = []
    for p, it in enumerate(items):
        if illegal[p]:
            S.append(-1.0)
        elif it == target:
            S.append(1.0)
        else:
            S.append(1 / math.log2(rank.get(it, n) + 3))
    star = [-1.0 if illegal[p] else S[p] / math.log2(p + 2) for p in range(len(items))]
    ctl_parts, list_parts, part_metrics = [], [], []
    for intent in intents:
        km = k * intent.share
        c = cat.category(intent.category) if intent.category else None

        def in_c(it, c=c, name=intent.category):
            return c is not None and it >= 0 and name in cat_of(cat, it)

        cin = cout = 0
        ctl = []
        for p, it in enumerate(items):
            if illegal[p]:
                ctl.append(-1.0)
                continue
            x = in_c(it)
            cin += x
            cout += not x
            kind = intent.kind
            if kind == "I0":
                s = S[p]
            elif kind in ("I1+", "I3"):
                s = 1.0 if x else 0.0
            elif kind == "I1-":
                s = 0.0 if x else 1.0
            elif kind == "I2<=":
                s = 0.5 if cout > k - km else 1.0 if not x else 0.5 if cin <= km else 0.0
            elif kind == "I2>=":
                s = 0.5 if cin > k else 1.0 if x else 0.5 if cout <= k - km else 0.0
            else:
                s = (1.0 if cin <= km else 0.0) if x else 1.0 if cin >= km else \
                    0.5 if cout <= k - km else 0.0
            ctl.append(s)
        ctl_parts.append(ctl)
        kind = intent.kind
        if kind == "I0":
            lc = sum(star)
        elif kind in ("I1+", "I3"):
            lc = 1 / math.log2(k - cin + 2)
        elif kind == "I1-":
            lc = 1 / math.log2(k - cout + 2)
        elif kind == "I2<=":
            lc = 1 / math.log2(float(max(cin - km, 0)) + 2)
        elif kind == "I2>=":
            lc = 1 / math.log2(float(max(km - cin, 0)) + 2)
        else:
            lc = 1 / math.log2(float(abs(cin - km)) + 2)
        list_parts.append(lc)
        distinct = {it for it in items[:k] if it >= 0 and in_c(it)}
        cnt = len(distinct)
        tcp = None if kind == "I0" else cnt / k
        cpa = {"I2<=": cnt <= km, "I2>=": cnt >= km, "I2~": abs(cnt - km) <= 1}.get(kind)
        part_metrics.append({"TCP": tcp, "CPA": None if cpa is None else int(cpa)})
    m = len(intents)
    ctl = [sum(cp[p] for cp in ctl_parts) / m for p in range(len(items))]
    lctl = sum(list_parts) / m
    head = min(k, len(items))
    hit = [p for p, it in enumerate(items) if it == target and not illegal[p]]
    metrics = {
        "HR": None if target is None else int(bool(hit)),
        "NDCG": None if target is None else (1 / math.log2(hit[0] + 2) if hit else 0.0),
        "CorrectCount": int(len(items) == k),
        "RepeatItem": sum(repeat[:head]) / head if head else 0.0,
        "NonExist": sum(nonexist[:head]) / head if head else 0.0,
        "InHistory": sum(inhist[:head]) / head if head else 0.0,
    }
    return {"items": items, "illegal": illegal, "S": S, "ctl": ctl,
            "R_item": [0.5 * a + 0.5 * b for a, b in zip(S, ctl, strict=True)],
            "R_list": 0.5 * sum(star) + 0.5 * lctl, "list_ctl": lctl, "metrics": metrics,
            "parts": part_metrics, "km": [k * i.share for i in intents]}


def cat_of(cat, index):
    c = [name for name in cat.category_names
         if cat.in_category([index], [cat.category_index[name]])[0]]
    return set(c)


__all__ = ["Fraction", "reference"]
