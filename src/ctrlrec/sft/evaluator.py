"""The validation hook of SFT, scored by `ctrlrec.scoring` (the one definition of every metric).

Works on training samples (history / target as ids) and on test-set cases (history_ids /
target_id); intents come from each case, so a mixed validation set yields TCP and CPA too.
"""

from __future__ import annotations

from collections.abc import Callable

import pandas as pd

from ctrlrec.scoring import Case, Catalog, score_batch
from ctrlrec.scoring.intents import as_intents, intent_from_json


def _intents(obj):
    if obj is None:
        return as_intents("I0")
    if isinstance(obj, list):
        return tuple(intent_from_json(o) for o in obj)
    return as_intents(intent_from_json(obj))


def _ids(case: dict, key: str):
    v = case.get(f"{key}_ids" if key == "history" else f"{key}_id", case.get(key))
    return v


def make_evaluator(catalog: pd.DataFrame) -> Callable[[list[str], list[dict]], dict]:
    cat = Catalog.from_frame(catalog)

    def evaluate(generations: list[str], cases: list[dict]) -> dict:
        batch = [Case(output=g, k=int(c["k"]), intent=_intents(c.get("intent")),
                      history=_ids(c, "history") or (), target=_ids(c, "target"))
                 for g, c in zip(generations, cases, strict=True)]
        means = score_batch(cat, batch).mean_metrics()
        return {k: v for k, v in means.items() if v is not None}

    return evaluate
