"""Every label must satisfy its own instruction: checked with ctrlrec.scoring, never by hand."""

from __future__ import annotations

import numpy as np

from ctrlrec.scoring import Case, Catalog, score_batch
from ctrlrec.scoring.intents import as_intents, intent_from_json


def _intents(obj):
    if isinstance(obj, list):
        return tuple(intent_from_json(o) for o in obj)
    return as_intents(intent_from_json(obj))


def violations(catalog: Catalog, samples: list[dict]) -> list[str | None]:
    """For each list sample, None if its answer obeys its instruction, else the reason.

    Checked: exactly k lines, no illegal item (non-existent, repeated, in the shown history),
    and per intent part: I1+/I3 all items in C (TCP = 1), I1- none (TCP = 0), I2* CPA = 1.
    Samples without a list answer (I3r, I4) are not checked here and give None.
    """
    idx = [j for j, s in enumerate(samples) if s.get("k")]
    out: list[str | None] = [None] * len(samples)
    if not idx:
        return out
    cases = [
        Case(output=samples[j]["messages"][-1]["content"], k=samples[j]["k"],
             intent=_intents(samples[j]["intent"]), history=samples[j]["history"],
             target=samples[j]["target"])
        for j in idx
    ]
    res = score_batch(catalog, cases)
    # Vectorised over the flat arrays of the batch (no per-list result objects).
    correct = res.list_metrics["CorrectCount"] == 1
    illegal_any = np.add.reduceat(res.flags.illegal.astype(np.int64), res.offsets[:-1]) > 0 \
        if len(res.flags.illegal) else np.zeros(len(cases), bool)
    illegal_any &= np.diff(res.offsets) > 0
    part_first = np.searchsorted(res.part_case, np.arange(len(cases)))
    for n, (j, case) in enumerate(zip(idx, cases, strict=True)):
        if not correct[n]:
            out[j] = "wrong number of items"
        elif illegal_any[n]:
            out[j] = "illegal item (non-existent, repeated or in history)"
        else:
            parts = [{m: res.part_metrics[m][part_first[n] + p] for m in ("TCP", "CPA")}
                     for p in range(len(case.intents))]
            why = _reason(case.intents, parts)
            # a grounded I1+ label whose pool holds fewer than k items of C: every C item of the pool
            # first, then the teacher's best others (the most the pool allows); marked "partial"
            if why and samples[j].get("partial") and why.startswith("I1+"):
                why = None
            out[j] = why
    return out


def _reason(intents, parts) -> str | None:
    for intent, part in zip(intents, parts, strict=True):
        if intent.kind in ("I1+", "I3") and part["TCP"] != 1:
            return f"{intent.kind}: not every item is in '{intent.category}'"
        if intent.kind == "I1-" and part["TCP"] != 0:
            return f"I1-: an item is in '{intent.category}'"
        if intent.kind.startswith("I2") and part["CPA"] != 1:
            return f"{intent.kind}: proportion of '{intent.category}' not met"
    return None
