import copy
import random
import re

import numpy as np
import pytest

from ctrlrec import intents as wording
from ctrlrec.scoring import Catalog
from ctrlrec.scoring.intents import Intent, intent_from_json
from ctrlrec.tasks.build import build_samples
from ctrlrec.tasks.config import TaskConfig
from ctrlrec.tasks.context import PopularityRanker, TaskContext
from ctrlrec.tasks.validate import violations
from tests.tasks.tiny import tiny_dataset

SIZES = {"I0": 40, "I1+": 30, "I1-": 30, "I2<=": 30, "I2~": 30, "I2>=": 30, "I3": 20, "I3r": 10}


@pytest.fixture(scope="module")
def built():
    ds = tiny_dataset()
    ctx = TaskContext(ds, PopularityRanker.from_dataset(ds))
    cfg = TaskConfig(seed=3, sizes=SIZES, i2_k=(4, 5, 7, 10), candidate_share=0.3)
    general = [[{"role": "user", "content": "hi"}, {"role": "assistant", "content": "hello"}]]
    samples, report = build_samples(ctx, cfg, general, progress=False)
    return ds, ctx, cfg, samples, report, general


def test_deterministic_for_a_seed(built):
    ds, ctx, cfg, samples, _, general = built
    again, _ = build_samples(ctx, cfg, general, progress=False)
    assert again == samples
    other, _ = build_samples(ctx, TaskConfig(**{**cfg.to_dict(), "seed": 4}), general,
                             progress=False)
    assert other != samples


def test_counts_and_every_label_passes_scoring(built):
    ds, ctx, cfg, samples, report, _ = built
    by_task = {}
    for s in samples:
        by_task[s["task"]] = by_task.get(s["task"], 0) + 1
    for task, n in SIZES.items():
        assert by_task.get(task, 0) + report["unsatisfiable"].get(task, 0) + \
            report["refused"].get(task, 0) == n
        assert by_task.get(task, 0) >= 0.8 * n
    # one general conversation may appear at most i4_max_repeat times
    assert by_task["I4"] == min(report["requested"]["I4"], cfg.i4_max_repeat) > 0
    assert violations(Catalog.from_frame(ds.catalog), samples) == [None] * len(samples)


def test_no_history_item_in_any_label(built):
    ds, ctx, _, samples, _, _ = built
    for s in samples:
        if s["user"] is None:
            continue
        seq = ds.split.train[s["user"]].tolist()
        prefix = seq[: seq.index(s["target"])]
        assert not set(s["labels"]) & set(prefix)
        assert set(s["history"]) <= set(prefix)


def test_prompt_number_matches_label_number(built):
    _, ctx, _, samples, _, _ = built
    seen_forms = set()
    for s in samples:
        if not s["task"].startswith("I2"):
            continue
        it = intent_from_json(s["intent"])
        prompt = s["messages"][1]["content"]
        seen_forms.add(s["form"])
        if s["form"] == "pct":
            assert wording.percent(it.proportion) in prompt
        else:
            assert s["instruction"] in prompt
            n = int(re.findall(r"\d+", s["instruction"])[0])
            assert n == it.allowed(s["k"])
        assert it.kind == s["task"]
    assert seen_forms == {"pct", "count"}


def test_candidates_hold_the_labels(built):
    _, _, _, samples, _, _ = built
    with_c = [s for s in samples if s["candidates"]]
    assert with_c
    for s in with_c:
        assert set(s["labels"]) <= set(s["candidates"])
        assert "Choose only from these candidates" in s["messages"][1]["content"]


def test_a_broken_label_is_caught(built):
    ds, _, _, samples, _, _ = built
    cat = Catalog.from_frame(ds.catalog)
    s = copy.deepcopy(next(x for x in samples if x["task"] == "I1-"))
    bad_item = next(i for i in range(ds.n_items)
                    if s["intent"]["category"] in ds.catalog["categories"][i]
                    and i not in s["labels"] and i not in s["history"])
    s["messages"][-1]["content"] = wording.numbered(
        [ds.catalog["title"][i] for i in s["labels"][:-1] + [bad_item]])
    assert violations(cat, [s]) == [f"I1-: an item is in '{s['intent']['category']}'"]


def test_count_phrasing_only_when_exact():
    rng = random.Random(0)
    it = Intent("I2<=", "Comedy", 0.3)
    assert wording.render_intent(it, 10, rng, form="count").text
    with pytest.raises(ValueError):
        wording.render_intent(it, 7, rng, form="count")
    assert "30%" in wording.render_intent(it, 7, rng, form="pct").text


def test_phrasing_variety():
    assert len(set(wording.POSITIVE)) >= 6 and len(set(wording.NEGATIVE)) >= 6
    for kind in ("I2<=", "I2~", "I2>="):
        pct, cnt = wording.PROPORTION[kind]
        assert len(pct) >= 3 and len(cnt) >= 3


def test_popularity_ranker_puts_history_last():
    r = PopularityRanker(np.array([5.0, 9.0, 1.0, 7.0]))
    assert r.ranking([[1], []]).tolist() == [[3, 0, 2, 1], [1, 3, 0, 2]]


def test_every_sample_names_its_instruction(built):
    _, _, _, samples, _, _ = built
    by_task = {}
    for s in samples:
        assert "instruction" in s, s["task"]
        by_task.setdefault(s["task"], []).append(s)
    assert {"I3", "I3r", "I4"} <= set(by_task)
    for s in by_task["I3"] + by_task["I3r"] + by_task["I4"]:
        assert s["instruction"] and s["instruction"] in s["messages"][1]["content"]


def test_search_has_its_own_phrasings(built):
    _, _, _, samples, _, _ = built
    positive = {t.split("'{c}'")[0] for t in wording.POSITIVE}
    for s in samples:
        if s["task"] == "I3":
            assert any(s["instruction"].startswith(t.split("'{c}'")[0]) for t in wording.SEARCH)
            assert not any(s["instruction"].startswith(p) for p in positive if p)


def test_wording_of_one_item_and_of_apostrophes():
    one = wording.user_prompt(1, ["A (1990)"], "")
    assert "Recommend one item I have not seen." in one and "1 different" not in one
    assert "Recommend one item from the candidates." in wording.grounded_prompt(1, None, "", ["A"])
    assert "Recommend 3 different items." in wording.user_prompt(3, None, "")
    rng = random.Random(0)
    for kind in ("I1+", "I1-", "I3"):
        text = wording.render_intent(Intent(kind, "Children's"), 5, rng).text
        assert '"Children\'s"' in text and "'Children's'" not in text
    text = wording.render_intent(Intent("I2<=", "Children's", 0.2), 10, rng, form="count").text
    assert '"Children\'s"' in text
    assert "'Comedy'" in wording.render_intent(Intent("I1+", "Comedy"), 5, rng).text


def test_no_positive_phrasing_repeats_the_verb():
    assert not any(t.startswith("Recommend") for t in wording.POSITIVE)
