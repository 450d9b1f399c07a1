"""Candidate pools of the grounded mode: built from the history alone, and always admitting a
compliant answer when each category gets k extras."""

import numpy as np
import pytest

from ctrlrec.scoring.intents import Intent
from ctrlrec.tasks.build import build_samples
from ctrlrec.tasks.config import TaskConfig, TestsetConfig
from ctrlrec.tasks.context import PopularityRanker, TaskContext
from ctrlrec.tasks.pool import PoolConfig, admits, build_pools
from ctrlrec.tasks.testsets import TEST_SETS, build_cases
from tests.tasks.tiny import tiny_dataset


@pytest.fixture(scope="module")
def ctx():
    ds = tiny_dataset()
    return TaskContext(ds, PopularityRanker.from_dataset(ds))


def test_every_test_case_has_a_compliant_answer_in_its_pool():
    ds = tiny_dataset(n_users=40, n_items=150)
    ctx = TaskContext(ds, PopularityRanker.from_dataset(ds))
    # every set's k is at most 15; per_category = 15 gives each category k items of its own
    pool = PoolConfig(mode="grounded", n_top=15, per_category=15)
    sets = build_cases(ctx, TestsetConfig(seed=3, pool=pool))
    everything = list(range(ds.n_items))
    kinds, checked, total = set(), 0, 0
    for name in TEST_SETS:
        assert sets[name], name
        for case in sets[name]:
            raw = case["intent"] if isinstance(case["intent"], list) else [case["intent"]]
            intents = [Intent(r["kind"], r.get("category"), r.get("proportion")) for r in raw]
            prefix = ds.sequences[case["user"]][:-1]
            total += 1
            if admits(ctx.catmat, ctx.cat_index, everything, prefix, case["k"], intents):
                checked += 1
                assert case["pool_admits"], (name, case["id"])
            raw = case["intent"] if isinstance(case["intent"], list) else [case["intent"]]
            kinds |= {r["kind"] for r in raw}
    assert kinds >= {"I0", "I1+", "I1-", "I2<=", "I2~", "I2>="}
    assert checked >= 0.8 * total  # the catalog itself can satisfy nearly every case


def test_a_small_pool_can_lack_a_compliant_answer(ctx):
    pool = PoolConfig(mode="grounded", n_top=3, per_category=0)
    sets = build_cases(ctx, TestsetConfig(seed=3, pool=pool), sets=("I1+", "I0"))
    assert not any(c["pool_admits"] for c in sets["I1+"])  # 3 items cannot hold 10 of one genre
    assert not any(c["pool_admits"] for c in sets["I0"])


def test_pool_comes_from_the_prefix_alone(ctx):
    ds = ctx.ds
    cfg = PoolConfig(mode="grounded", n_top=8, per_category=2)
    sets = build_cases(ctx, TestsetConfig(seed=0, pool=cfg), sets=("I0", "I1+", "I1-"))
    for name in ("I1+", "I1-"):
        for case, plain in zip(sets[name], sets["I0"], strict=True):
            assert case["user"] == plain["user"]
            assert case["pool_ids"] == plain["pool_ids"]  # the instruction does not touch the pool
    u = int(sets["I0"][0]["user"])
    prefix = ds.sequences[u][:-1]
    (again,) = build_pools(ctx, [prefix], cfg)
    assert again.items == sets["I0"][0]["pool_ids"]
    assert not set(again.items) & set(prefix.tolist())  # nothing the user has seen
    assert len(again.items) >= 8 and len(set(again.items)) == len(again.items)


def test_listing_orders(ctx):
    prefix = ctx.ds.sequences[0][:-1]
    (best,) = build_pools(ctx, [prefix], PoolConfig(mode="grounded", n_top=10, per_category=1))
    (alpha,) = build_pools(ctx, [prefix], PoolConfig(mode="grounded", n_top=10, per_category=1,
                                                      order="title"))
    assert best.scores == sorted(best.scores, reverse=True)
    assert sorted(best.items) == sorted(alpha.items)
    names = [ctx.titles[i].casefold() for i in alpha.items]
    assert names == sorted(names) and alpha.items != best.items


def test_grounded_training_samples_choose_from_their_pool(ctx):
    pool = PoolConfig(mode="grounded", n_top=12, per_category=10)
    cfg = TaskConfig(seed=0, pool=pool, history_window="last",
                     sizes={"I0": 30, "I1+": 20, "I1-": 20, "I2<=": 10, "I2~": 10, "I2>=": 10,
                            "I3": 0, "I3r": 0})
    samples, report = build_samples(ctx, cfg, None, progress=False)
    assert report["written"]["I0"] == 30
    for s in samples:
        assert s["candidates"] and set(s["labels"]) <= set(s["candidates"])
        user = s["messages"][1]["content"]
        assert "Candidates, best first:" in user
        for i in s["candidates"]:
            assert ctx.titles[i] in user
        assert len(s["history"]) == min(10, len(s["history"]))
    # the history shown is the last 10 items before the target (as every test prompt shows)
    s = next(s for s in samples if s["task"] == "I0")
    seq = ctx.ds.split.train[s["user"]].tolist()
    t = max(j for j in range(len(seq)) if seq[j] == s["target"])
    assert s["history"] == seq[max(0, t - 10):t]


def test_grouped_samples_share_one_pool_and_carry_distinct_tasks(ctx):
    sizes = {"I0": 12, "I1+": 9, "I1-": 9, "I2<=": 6, "I2~": 0, "I2>=": 3, "I3": 0, "I3r": 0}
    pool = PoolConfig(mode="grounded", n_top=12, per_category=10)
    cfg = TaskConfig(seed=1, pool=pool, history_window="last", sizes=sizes, group=4)
    samples, report = build_samples(ctx, cfg, None, progress=False)
    for task, n in sizes.items():  # every task's count is drawn, as without groups
        assert report["written"].get(task, 0) + report["unsatisfiable"].get(task, 0) + \
            report["refused"].get(task, 0) == n
    groups = {}
    for s in samples:
        groups.setdefault(s["group"], []).append(s)
    assert max(len(g) for g in groups.values()) == 4 and len(groups) < len(samples) / 2
    for g in groups.values():
        assert len({(s["user"], s["target"], tuple(s["candidates"])) for s in g}) == 1
        assert len({s["messages"][1]["content"] for s in g}) == len(g)  # different instructions
    # distinct tasks in a group until fewer tasks than the group's size have draws left
    repeats = [k for k, g in groups.items() if len({s["task"] for s in g}) < len(g)]
    assert repeats and all(len({s["task"] for s in groups[k]}) == 4 for k in groups if k < min(repeats))
    with pytest.raises(ValueError, match="group = 0"):
        TaskConfig(group=0)


def test_admits_counts_each_intent():
    catmat = np.array([[1, 1, 0, 0, 0], [0, 0, 1, 1, 1]], dtype=bool)
    idx = {"A": 0, "B": 1}
    items = [0, 1, 2, 3, 4]
    assert admits(catmat, idx, items, [], 2, [Intent("I1+", "A")])
    assert not admits(catmat, idx, items, [0], 2, [Intent("I1+", "A")])
    assert admits(catmat, idx, items, [], 3, [Intent("I1-", "A")])
    assert not admits(catmat, idx, items, [], 4, [Intent("I1-", "A")])
    assert admits(catmat, idx, items, [], 5, [Intent("I2>=", "A", 0.4)])
    assert not admits(catmat, idx, items, [], 5, [Intent("I2>=", "A", 0.6)])


def test_instruction_before_or_after_the_pool(ctx):
    from ctrlrec.intents import grounded_prompt

    after = grounded_prompt(3, [], "No Horror.", ["A (1990)", "B (1991)"], [["Drama"], ["Horror"]])
    before = grounded_prompt(3, [], "No Horror.", ["A (1990)", "B (1991)"], [["Drama"], ["Horror"]],
                             instruction_first=True)
    assert after.index("No Horror.") > after.index("Candidates") > -1
    assert before.index("No Horror.") < before.index("Recommend 3") < before.index("Candidates")
    assert sorted(after.split()) == sorted(before.split())  # the same words, another order
    pool = PoolConfig(mode="grounded", n_top=12, per_category=10, instruction="before")
    cfg = TaskConfig(seed=0, pool=pool, history_window="last", sizes={"I1-": 5, "I0": 0, "I3": 0, "I3r": 0,
                     "I1+": 0, "I2<=": 0, "I2~": 0, "I2>=": 0})
    samples, _ = build_samples(ctx, cfg, None, progress=False)
    user = samples[0]["messages"][1]["content"]
    assert user.index(samples[0]["instruction"]) < user.index("Candidates")
    with pytest.raises(Exception, match="instruction"):
        PoolConfig(instruction="middle").check()


def test_tagged_answers_name_each_item_with_its_categories_and_score_as_titles(ctx):
    from ctrlrec.scoring.parse import parse_lines

    pool = PoolConfig(mode="grounded", n_top=12, per_category=10, answer="tagged")
    sizes = {"I0": 5, "I1+": 5, "I1-": 5, "I2<=": 0, "I2~": 0, "I2>=": 0, "I3": 0, "I3r": 0}
    cfg = TaskConfig(seed=0, pool=pool, history_window="last", sizes=sizes)
    samples, _ = build_samples(ctx, cfg, None, progress=False)
    plain, _ = build_samples(ctx, TaskConfig(seed=0, pool=PoolConfig(mode="grounded", n_top=12,
                             per_category=10), history_window="last", sizes=sizes), None, progress=False)
    for s, p in zip(samples, plain, strict=True):
        answer = s["messages"][2]["content"]
        lines = answer.split("\n")
        assert len(lines) == len(s["labels"])
        for line, i in zip(lines, s["labels"], strict=True):
            cats = ", ".join(ctx.item_categories[i]) or "no category"
            assert line.split(". ", 1)[1] == f"[{cats}] '{ctx.titles[i]}'"
        # the same draws as the plain format; scoring reads the same titles from both
        assert s["labels"] == p["labels"] and s["messages"][1] == p["messages"][1]
        assert parse_lines(answer).titles == parse_lines(p["messages"][2]["content"]).titles
    with pytest.raises(Exception, match="answer"):
        PoolConfig(answer="ids").check()
