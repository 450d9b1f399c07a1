"""Results of scoring: flat arrays for a batch (`BatchScores`), one list's view (`ScoreResult`)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from ctrlrec.scoring.legality import Flags
from ctrlrec.scoring.metrics import LIST_METRICS, METRICS
from ctrlrec.scoring.parse import as_text, parse_lines

_INT_METRICS = frozenset({"HR", "CPA", "CorrectCount"})


def _json_value(name: str, v: float):
    if math.isnan(v):
        return None
    return int(v) if name in _INT_METRICS else float(v)


@dataclass
class ScoreResult:
    """One scored list. Per-line arrays have one entry per parsed line (positions >= k included).

    preference is S_p, control is S^ctl_p (the mean over intent parts), item_rewards is
    0.5*S_p + 0.5*S^ctl_p; list_control is Score^ctl_list and list_reward is R_list (§5, unamplified).
    spans are (start, end) character offsets of each raw title in the generated text.
    """

    titles: list[str]
    spans: list[tuple[int, int]]
    items: list[str | None]
    item_ids: list[int | str | None]  # the catalog's own ids (strings for string-id catalogs)
    illegal: np.ndarray
    repeat: np.ndarray
    nonexistent: np.ndarray
    in_history: np.ndarray
    metrics: dict[str, Any]
    preference: np.ndarray
    control: np.ndarray
    item_rewards: np.ndarray
    list_control: float
    list_reward: float

    def to_json(self, case_id=None) -> dict:
        """The output object of spec §6."""
        return {
            "id": case_id,
            "items": self.items,
            "item_ids": self.item_ids,
            "illegal": [bool(x) for x in self.illegal],
            "metrics": self.metrics,
            "item_rewards": [float(x) for x in self.item_rewards],
            "list_reward": float(self.list_reward),
        }


@dataclass
class BatchScores:
    """Everything `score_batch` computed, as flat arrays; `res[i]` is list i's `ScoreResult`."""

    catalog: Any
    cases: Any
    offsets: np.ndarray       # lines of list i are offsets[i]:offsets[i+1]
    titles: list[str]
    item: np.ndarray          # catalog index per line, -1 non-existent
    flags: Flags
    preference: np.ndarray
    control: np.ndarray
    item_rewards: np.ndarray
    list_control: np.ndarray  # per list
    list_reward: np.ndarray   # per list
    list_metrics: dict[str, np.ndarray]  # per list, NaN = null
    part_case: np.ndarray     # per intent part: its list
    part_metrics: dict[str, np.ndarray]  # per part: TCP, CPA (NaN = null)
    n_parts: np.ndarray       # per list

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def metric_arrays(self) -> dict[str, np.ndarray]:
        """One array per metric over lists; TCP/CPA are NaN for combined instructions (see parts)."""
        b = len(self)
        out = {name: self.list_metrics[name] for name in LIST_METRICS}
        single = self.n_parts == 1
        first = np.searchsorted(self.part_case, np.arange(b))
        for name in ("TCP", "CPA"):
            v = self.part_metrics[name][np.minimum(first, len(self.part_case) - 1)]
            out[name] = np.where(single, v, np.nan)
        return {name: out[name] for name in METRICS}

    def mean_metrics(self) -> dict[str, float | None]:
        """Each metric averaged over the lists where it applies (None where it applies to none)."""
        res = {}
        for name, v in self.metric_arrays().items():
            ok = ~np.isnan(v)
            res[name] = float(v[ok].mean()) if ok.any() else None
        return res

    def metrics_json(self, i: int) -> dict[str, Any]:
        m = {name: _json_value(name, float(self.list_metrics[name][i])) for name in LIST_METRICS}
        first = int(np.searchsorted(self.part_case, i))
        parts = [{name: _json_value(name, float(self.part_metrics[name][j])) for name in ("TCP", "CPA")}
                 for j in range(first, first + int(self.n_parts[i]))]
        if len(parts) == 1:
            m.update(parts[0])
        else:
            m.update({"TCP": None, "CPA": None, "parts": parts})
        return {name: m[name] for name in (*METRICS, "parts") if name in m}

    def spans(self, i: int) -> list[tuple[int, int]]:
        """(start, end) of each raw title of list i in its generated text (parsed again on demand)."""
        return parse_lines(as_text(self.cases[i].output)).spans

    def __getitem__(self, i: int) -> ScoreResult:
        if not -len(self) <= i < len(self):
            raise IndexError(i)
        i %= len(self)
        s, e = int(self.offsets[i]), int(self.offsets[i + 1])
        cat = self.catalog
        idx = self.item[s:e].tolist()
        f = self.flags
        return ScoreResult(
            titles=self.titles[s:e], spans=self.spans(i),
            items=[cat.titles[j] if j >= 0 else None for j in idx],
            item_ids=[cat.external_id(j) if j >= 0 else None for j in idx],
            illegal=f.illegal[s:e], repeat=f.repeat[s:e], nonexistent=f.nonexistent[s:e],
            in_history=f.in_history[s:e], metrics=self.metrics_json(i),
            preference=self.preference[s:e], control=self.control[s:e],
            item_rewards=self.item_rewards[s:e], list_control=float(self.list_control[i]),
            list_reward=float(self.list_reward[i]))

    def to_json(self, i: int) -> dict:
        case = self.cases[i]
        return self[i].to_json(getattr(case, "id", None))
