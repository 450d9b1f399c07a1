"""Baselines of the grounded mode, on the same candidate pools the model chooses from.

They guard the grounded mode's table against a pass-through: a model that only copies the pool's
order scores what `pool-copy` scores, and one that chooses blindly what `pool-random` does.

  pool-copy            the first k candidates in the listed order (the teacher's top-k when the pool
                       is listed best first); the instruction is ignored
  pool-random          k candidates drawn at random (seeded by the case id); the instruction ignored
  pool-oracle          the teacher's best candidates that obey the instruction (the oracle
                       controller restricted to the pool: the best a chooser over the pool can do)
  oracle-keywords:RUN  the oracle controller fed by a plain keyword parser of the instruction's text
                       instead of the case's structured intent (`ctrlrec.eval.keywords`): what rules
                       make of a wording, the baseline of the held-out-phrasing set
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass, field

import numpy as np

from ctrlrec.eval.runner import OracleController, case_intents, format_list

POOL_BASELINES = ("pool-copy", "pool-random", "pool-oracle")


def _seed(case_id: str) -> int:
    return int.from_bytes(hashlib.sha256(case_id.encode()).digest()[:8], "little")


@dataclass
class PoolBaseline:
    """A chooser over each case's pool that reads no text (see the module docstring)."""

    kind: str
    titles: list[str]
    catmat: np.ndarray
    categories: list[str]
    name: str = ""
    seconds: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if self.kind not in POOL_BASELINES:
            raise ValueError(f"pool baseline {self.kind!r}: expected one of {', '.join(POOL_BASELINES)}")
        self.name = self.name or self.kind
        self._oracle = OracleController(None, self.titles, self.name, catmat=self.catmat,
                                        categories=self.categories)

    def pick(self, case: dict, plain: bool) -> list[int]:
        k = int(case["k"])
        hist = set(int(h) for h in case["history_ids"])
        items = [int(i) for i in case["pool_ids"] if int(i) not in hist]
        if self.kind == "pool-copy":
            return items[:k]
        if self.kind == "pool-random":
            rng = np.random.default_rng(_seed(str(case["id"])))
            return [items[j] for j in rng.permutation(len(items))[:k]]
        scores = np.asarray(case["pool_scores"], dtype=np.float64)
        ranking = np.asarray(case["pool_ids"], dtype=np.int64)[np.argsort(-scores, kind="stable")]
        allowed = np.zeros(len(self.titles), dtype=bool)
        allowed[items] = True
        intents = () if plain else case_intents(case)
        return self._oracle.pick(ranking, allowed, k, intents)[:k]

    def recommend(self, cases: list[dict], plain: bool) -> list[str]:
        t0 = time.perf_counter()
        out = [format_list([self.titles[i] for i in self.pick(c, plain)]) for c in cases]
        self.seconds += time.perf_counter() - t0
        return out

    def describe(self) -> dict:
        return {"name": self.name, "kind": "PoolBaseline", "baseline": self.kind}


@dataclass
class KeywordOracle(OracleController):
    """The oracle controller whose intents come from `parse_keywords` of the case's instruction."""

    def recommend(self, cases: list[dict], plain: bool) -> list[str]:
        from ctrlrec.eval.keywords import parse_keywords

        t0 = time.perf_counter()
        ranking, allowed = self._rank(cases)
        out = []
        for b, c in enumerate(cases):
            k = int(c["k"])
            intents = () if plain else parse_keywords(c.get("instruction", ""), self.categories, k)
            intents = tuple(i for i in intents if i.kind != "I0")
            picks = self.pick(ranking[b], allowed[b], k, intents)
            out.append(format_list([self.titles[i] for i in picks]))
        self.seconds += time.perf_counter() - t0
        return out

    def describe(self) -> dict:
        return {**super().describe(), "intents": "parse_keywords(instruction)"}
