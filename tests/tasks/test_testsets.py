import json

import pytest

from ctrlrec.scoring import Catalog, score_batch
from ctrlrec.scoring.intents import intent_from_json
from ctrlrec.scoring.score import Case
from ctrlrec.tasks.config import TestsetConfig
from ctrlrec.tasks.context import PopularityRanker, TaskContext
from ctrlrec.tasks.testsets import TEST_SETS, build_cases, save_testsets
from tests.tasks.tiny import tiny_dataset


@pytest.fixture(scope="module")
def ctx():
    ds = tiny_dataset()
    return TaskContext(ds, PopularityRanker.from_dataset(ds))


def test_identical_across_runs(ctx, tmp_path):
    cfg = TestsetConfig(seed=1, valid_per_task=10)
    c1 = save_testsets(tmp_path / "a", ctx, cfg, "tiny", "popularity")
    c2 = save_testsets(tmp_path / "b", ctx, cfg, "tiny", "popularity")
    assert c1 == c2
    m1 = json.loads((tmp_path / "a" / "testsets_manifest.json").read_text())["sha256"]
    m2 = json.loads((tmp_path / "b" / "testsets_manifest.json").read_text())["sha256"]
    assert m1 == m2 and len(m1) == len(TEST_SETS) + 4


def test_cases_follow_the_paper(ctx):
    sets = build_cases(ctx, TestsetConfig(seed=0))
    ds = ctx.ds
    assert len(sets["I0"]) == len(ds.split.eval_users)
    for case in sets["I1+"]:
        assert case["intent"]["category"] in ds.catalog["categories"][case["target_id"]]
    for case in sets["I1-"]:
        assert case["intent"]["category"] not in ds.catalog["categories"][case["target_id"]]
    for neg, le in zip(sets["I1-"], sets["I2<=20%"], strict=True):
        assert le["intent"] == {"kind": "I2<=", "category": neg["intent"]["category"],
                                "proportion": 0.2}
    assert {c["k"] for c in sets["count"]} <= set(range(11, 16))
    assert all(c["k"] == 5 for c in sets["I0@5"])
    for case in sets["I2<=20%&I1-"]:
        a, b = case["intent"]
        assert a["category"] != b["category"]
    for case in sets["I1-"]:
        assert "'" + case["intent"]["category"] + "'" in case["messages"][1]["content"]
        assert case["intent"]["category"] not in case["messages_plain"][1]["content"]
        assert case["target_id"] not in case["history_ids"]


def test_cases_are_scorable(ctx):
    sets = build_cases(ctx, TestsetConfig(seed=0), sets=("I1-",))
    cat = Catalog.from_frame(ctx.ds.catalog)
    cases = [Case(output="\n".join(c["teacher"][:10]), k=c["k"], intent=intent_from_json(c["intent"]),
                  history=c["history_ids"], target=c["target_id"]) for c in sets["I1-"]]
    res = score_batch(cat, cases)
    assert len(res) == len(cases)
