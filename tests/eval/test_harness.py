"""The harness: every case written with its answer and score, resume, empty answers counted."""

from __future__ import annotations

import json

import pytest

from ctrlrec.errors import CtrlrecError
from ctrlrec.eval.factory import make_recommender
from ctrlrec.eval.harness import EvalConfig, ResultFile, run_eval
from ctrlrec.scoring import Catalog

SETS = ("I0", "I1+", "I2<=20%&I1-", "count")


class Scripted:
    """Answers with a fixed text, counts what it was asked, can fail after some calls."""

    name = "scripted"

    def __init__(self, text="1. Film 1 (1951)\n2. Film 2 (1952)", fail_after=None):
        self.text, self.fail_after, self.asked, self.calls = text, fail_after, [], 0

    def recommend(self, cases, plain):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt
        self.calls += 1
        self.asked += [(c["id"], plain) for c in cases]
        return [self.text] * len(cases)

    def describe(self):
        return {"name": self.name, "kind": "Scripted"}


def _records(out, name):
    return ResultFile(out / f"{name}.jsonl").records()


def test_every_case_is_written_with_output_and_score(world, tmp_path):
    ds, tasks = world
    cfg = EvalConfig(tasks=SETS, limit=5, batch_size=3)
    rec = make_recommender("popularity", ds)
    s = run_eval(rec, tasks, Catalog.from_frame(ds.catalog), tmp_path, cfg, "tiny", progress=False)
    recs = _records(tmp_path, "I1pos")
    assert len(recs) == 10 and {r["variant"] for r in recs} == {"control", "plain"}
    assert all(r["output"].startswith("1. ") and "metrics" in r["score"] for r in recs)
    assert len(_records(tmp_path, "I0")) == 5  # no control sentence: one variant
    assert s["sets"]["I0"]["plain"] is None and s["sets"]["I0"]["control"]["n"] == 5
    parts = s["sets"]["I2<=20%&I1-"]["control"]["parts"]
    assert len(parts) == 2 and parts[0]["CPA"] is not None and parts[1]["TCP"] is not None
    assert set(s["sets"]["count"]["control"]["by_k"]) <= {str(k) for k in range(11, 16)}
    saved = json.loads((tmp_path / "summary.json").read_text())
    assert saved["stage"] == "eval" and saved["sets"]["I1+"]["control"]["complete"]


def test_empty_answers_stay_in_the_denominators(world, tmp_path):
    ds, tasks = world
    s = run_eval(Scripted(text=""), tasks, Catalog.from_frame(ds.catalog), tmp_path,
                 EvalConfig(tasks=("I0",), limit=6), "tiny", progress=False)
    c = s["sets"]["I0"]["control"]
    assert c["n"] == 6 and c["empty"] == 6
    assert c["metrics"]["HR"] == 0.0 and c["metrics"]["CorrectCount"] == 0.0


def test_resume_skips_done_cases(world, tmp_path):
    ds, tasks = world
    cat = Catalog.from_frame(ds.catalog)
    cfg = EvalConfig(tasks=("I0", "I1+"), limit=6, batch_size=2)
    with pytest.raises(KeyboardInterrupt):
        run_eval(Scripted(fail_after=2), tasks, cat, tmp_path, cfg, "tiny", progress=False)
    assert len(_records(tmp_path, "I0")) == 4
    with open(tmp_path / "I0.jsonl", "ab") as fh:  # a write torn by the interruption
        fh.write(b'{"id": "test-I0-u9", "vari')
    again = Scripted()
    s = run_eval(again, tasks, cat, tmp_path, cfg, "tiny", progress=False)
    assert len(again.asked) == 2 + 12  # the 2 I0 cases left, and I1+ with and without control
    assert not {a for a, _ in again.asked} & {r["id"] for r in _records(tmp_path, "I0")[:4]}
    assert len(_records(tmp_path, "I0")) == 6 and s["sets"]["I0"]["control"]["complete"]
    done = Scripted()
    run_eval(done, tasks, cat, tmp_path, cfg, "tiny", progress=False)
    assert done.asked == []


def test_resume_refuses_another_model(world, tmp_path):
    ds, tasks = world
    cat = Catalog.from_frame(ds.catalog)
    cfg = EvalConfig(tasks=("I0",), limit=2)
    run_eval(Scripted(), tasks, cat, tmp_path, cfg, "tiny", progress=False)
    with pytest.raises(CtrlrecError, match="different recommender"):
        run_eval(make_recommender("popularity", ds), tasks, cat, tmp_path, cfg, "tiny", progress=False)


def test_bad_config_and_missing_sets_are_named(world, tmp_path):
    ds, tasks = world
    cat = Catalog.from_frame(ds.catalog)
    with pytest.raises(CtrlrecError, match="unknown"):
        run_eval(Scripted(), tasks, cat, tmp_path, EvalConfig(tasks=("I9",)), progress=False)
    with pytest.raises(CtrlrecError, match="I0.jsonl"):
        run_eval(Scripted(), tmp_path / "nowhere", cat, tmp_path / "o", EvalConfig(tasks=("I0",)),
                 progress=False)
