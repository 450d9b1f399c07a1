"""The chat-model recommender: greedy answers memoised by prompt, constrained decoding modes."""

from __future__ import annotations

import pytest

from ctrlrec.errors import CtrlrecError
from ctrlrec.eval.harness import EvalConfig, ResultFile, load_sets, run_eval
from ctrlrec.eval.runner import LLMRecommender
from ctrlrec.llm.generate import GenerationConfig
from ctrlrec.scoring import Catalog


def _rec(model_dir, ds=None, **kw):
    gen = GenerationConfig(max_new_tokens=kw.pop("max_new_tokens", 8), batch_size=4)
    cat = Catalog.from_frame(ds.catalog) if ds is not None else None
    return LLMRecommender(str(model_dir), gen, "hf", name="tiny", progress=False, catalog=cat, **kw)


def test_plain_variants_reuse_the_answers_of_identical_prompts(world, tiny_llm, tmp_path):
    ds, tasks = world
    rec = _rec(tiny_llm)
    s = run_eval(rec, tasks, Catalog.from_frame(ds.catalog), tmp_path,
                 EvalConfig(tasks=("I0", "I1-"), limit=4, batch_size=2), "tiny", progress=False)
    i0 = {r["user"]: r["output"] for r in ResultFile(tmp_path / "I0.jsonl").records()}
    plain = [r for r in ResultFile(tmp_path / "I1neg.jsonl").records() if r["variant"] == "plain"]
    shared = [r for r in plain if r["user"] in i0]
    assert shared, "the tiny world's I0 and I1- sets should share users"
    assert all(r["output"] == i0[r["user"]] for r in shared)
    assert s["timing"]["cache_hits"] == rec.cache_hits >= len(shared)
    fresh = _rec(tiny_llm)  # the same prompts answered without the memo: identical text
    cases = load_sets(tasks, EvalConfig(tasks=("I1-",), limit=4))["I1-"]
    assert fresh.recommend(cases, plain=True) == [r["output"] for r in sorted(
        plain, key=lambda r: [c["id"] for c in cases].index(r["id"]))]


def test_sampling_is_never_memoised(world, tiny_llm):
    ds, tasks = world
    cases = load_sets(tasks, EvalConfig(tasks=("I0",), limit=2))["I0"]
    rec = LLMRecommender(str(tiny_llm), GenerationConfig(max_new_tokens=4, do_sample=True), "hf",
                         progress=False)
    rec.recommend(cases + cases, plain=False)
    assert rec.cache_hits == 0


def test_catalog_decoding_writes_only_catalog_titles_outside_the_history(world, tiny_llm, tmp_path):
    ds, tasks = world
    rec = _rec(tiny_llm, ds, decoding="catalog")
    s = run_eval(rec, tasks, Catalog.from_frame(ds.catalog), tmp_path,
                 EvalConfig(tasks=("I0", "I1-"), limit=3, plain=False), "tiny", progress=False)
    for name in ("I0", "I1-"):
        m = s["sets"][name]["control"]["metrics"]
        assert m["NonExist"] == 0.0 and m["InHistory"] == 0.0 and m["RepeatItem"] == 0.0
        assert m["CorrectCount"] == 1.0
    guaranteed = _rec(tiny_llm, ds, decoding="guaranteed")
    g = run_eval(guaranteed, tasks, Catalog.from_frame(ds.catalog), tmp_path / "g",
                 EvalConfig(tasks=("I1-",), limit=3, plain=False), "tiny", progress=False)
    assert g["sets"]["I1-"]["control"]["metrics"]["TCP"] == 0.0  # I1- TCP: share of titles in C, none


def test_constrained_decoding_needs_the_catalog(tiny_llm):
    with pytest.raises(CtrlrecError, match="catalog"):
        _rec(tiny_llm, None, decoding="catalog")
    with pytest.raises(CtrlrecError, match="decoding 'beam'"):
        _rec(tiny_llm, None, decoding="beam")
