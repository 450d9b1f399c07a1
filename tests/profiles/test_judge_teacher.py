import numpy as np
import pytest
import torch

from ctrlrec.errors import CtrlrecError
from ctrlrec.profiles.cache import GenerationCache
from ctrlrec.profiles.judge import accuracy, log_odds
from ctrlrec.profiles.teacher import EndpointTeacher, make_teacher
from tests.profiles.helpers import tiny_chat


def _conv(item: str, long: bool) -> list[dict]:
    pad = " space war love story" * (6 if long else 0)
    return [{"role": "user", "content": f"Write the profile of user 1{pad}"},
            {"role": "assistant", "content": "User identity: student, engineer; User interests: a, b"},
            {"role": "user", "content": f"Will user 1 interact with item {item}? Answer Yes or No."}]


def test_judge_reads_the_answer_position_in_padded_batches():
    from ctrlrec.llm.chat import render

    model, tok = tiny_chat()
    convs = [_conv("space", False), _conv("love", True), _conv("space", True), _conv("love", False)]
    batched = log_odds(model, tok, convs, batch_size=4)  # prompts of two lengths: left padding
    yes, no = tok.convert_tokens_to_ids("Yes"), tok.convert_tokens_to_ids("No")
    for c, got in zip(convs, batched, strict=True):  # by hand: the unpadded prompt's next token
        ids = tok(render(tok, c, add_generation_prompt=True), add_special_tokens=False)["input_ids"]
        with torch.no_grad():
            lp = torch.log_softmax(model(input_ids=torch.tensor([ids])).logits[0, -1], -1)
        assert got == pytest.approx(float(lp[yes] - lp[no]), abs=1e-4)
    assert len(set(np.round(batched, 6))) == 4  # the four questions are told apart
    assert accuracy(np.array([0.3, -0.1, -2.0]), [True, False, True]) == pytest.approx(2 / 3)


def test_shared_prefixes_give_the_plain_numbers_with_fewer_tokens():
    model, tok = tiny_chat()
    convs = [_conv("space", False), _conv("love", False), _conv("war", False),  # one prefix, 3 questions
             _conv("space", True), _conv("love", True),  # another prefix, 2 questions
             _conv("story", True)[:1] + _conv("story", True)[2:],  # a prefix of its own: plain path
             [{"role": "user", "content": "Will user 2 like item love? Answer Yes or No."}]]  # no prefix
    seen = []
    hook = model.register_forward_pre_hook(lambda m, a, kw: seen.append(kw["input_ids"].numel()),
                                           with_kwargs=True)
    try:
        plain = log_odds(model, tok, convs, batch_size=2, shared=False)
        plain_tokens, seen[:] = sum(seen), []
        shared = log_odds(model, tok, convs, batch_size=2, shared=True)
    finally:
        hook.remove()
    np.testing.assert_allclose(shared, plain, atol=1e-4)
    assert sum(seen) < plain_tokens  # the two shared prefixes ran once each, not once per question


def test_judged_answers_are_cached_and_a_rerun_judges_only_the_new_ones(tmp_path):
    model, tok = tiny_chat()
    convs = [_conv("space", False), _conv("love", False), _conv("space", True), _conv("love", True)]
    calls = []
    hook = model.register_forward_pre_hook(lambda m, a, kw: calls.append(kw["input_ids"].shape[0]),
                                           with_kwargs=True)
    try:
        first = log_odds(model, tok, convs[:2], batch_size=2, cache=GenerationCache(tmp_path / "c.jsonl"),
                         fingerprint="fp")
        assert calls and len(GenerationCache(tmp_path / "c.jsonl")) == 2
        calls.clear()
        again = log_odds(model, tok, convs, batch_size=2, cache=GenerationCache(tmp_path / "c.jsonl"),
                         fingerprint="fp")  # a restart: the first two come from the file
        assert sum(calls) == 1 + 2  # one new prefix, its two questions; nothing for the cached two
    finally:
        hook.remove()
    np.testing.assert_array_equal(again[:2], first)
    np.testing.assert_allclose(again, log_odds(model, tok, convs, batch_size=2), atol=1e-5)
    calls.clear()
    other = log_odds(model, tok, convs[:2], batch_size=2, cache=GenerationCache(tmp_path / "c.jsonl"),
                     fingerprint="another model")
    assert len(GenerationCache(tmp_path / "c.jsonl")) == 6 and len(other) == 2  # keyed by model too


def test_unreachable_endpoint_is_one_clear_error(tmp_path):
    t = EndpointTeacher("http://127.0.0.1:9/v1", "big", GenerationCache(tmp_path / "c.jsonl"), timeout=2)
    with pytest.raises(CtrlrecError, match="127.0.0.1:9/v1.*unreachable"):
        t.write([[{"role": "user", "content": "hi"}]])
    with pytest.raises(CtrlrecError, match="--teacher-model"):
        make_teacher("http://127.0.0.1:9/v1", None, None, "fp", GenerationCache(tmp_path / "d.jsonl"))


def test_endpoint_teacher_answers_are_cached(tmp_path, stub_endpoint):
    url, calls = stub_endpoint
    prompts = [[{"role": "user", "content": "user " + "x" * u}] for u in range(3)]
    t = EndpointTeacher(url, "big", GenerationCache(tmp_path / "c.jsonl"))
    got = t.write(prompts)
    assert len(set(got)) == 3 and all(g.startswith("User identity: ") for g in got)
    assert len(calls) == 3 and calls[0]["model"] == "big" and calls[0]["temperature"] == 0
    assert EndpointTeacher(url, "big", GenerationCache(tmp_path / "c.jsonl")).write(prompts) == got
    assert len(calls) == 3  # all from the cache


def test_self_teacher_keeps_the_sample_that_answers_round_2_best(tmp_path, monkeypatch):
    import ctrlrec.profiles.teacher as teacher_mod
    from ctrlrec.profiles.prompts import ItemText

    good = "User identity: student, parent, engineer; User interests: space, war, story"
    wrong = "User identity: student, parent, engineer; User interests: love, romance, story"
    broken = "I like space"
    samples = {1: [wrong, broken], 2: [good, good], 3: [broken, wrong]}  # per sample seed, per user

    monkeypatch.setattr(teacher_mod, "generate_cached",
                        lambda model, tok, prompts, *a, sample_seed=None, **k: samples[sample_seed])

    def fake_log_odds(model, tok, convs, batch_size=16, progress=False, **cached):
        # "Yes" is likely when the profile mentions space and the question is about the space item
        out = []
        for c in convs:
            space = "space" in c[-2]["content"]
            about_space = "Space" in c[-1]["content"]
            out.append(2.0 if space == about_space else -2.0)
        return np.array(out)

    monkeypatch.setattr(teacher_mod, "log_odds", fake_log_odds)
    import pandas as pd

    text = ItemText(pd.DataFrame({"item_id": [0, 1], "title": ["Space war", "Love story"],
                                  "categories": [[], []]}))
    t = teacher_mod.SelfTeacher(None, None, "self", "fp", GenerationCache(tmp_path / "c.jsonl"), n=3)
    prompts = [[{"role": "user", "content": "u0"}], [{"role": "user", "content": "u1"}]]
    probes = [[(0, True), (1, False)], []]  # user 0: held-out space item (Yes), love item (No)
    best = t.write(prompts, probes, text, [0, 1])
    assert best[0] == good  # the profile that answers both questions right
    assert best[1] == good  # no questions: the first sample in shape (broken ones never win)


def test_facts_profile_is_valid_and_names_the_top_categories():
    import pandas as pd

    from ctrlrec.profiles import shape
    from ctrlrec.profiles.facts import Facts

    catalog = pd.DataFrame({"item_id": [0, 1, 2, 3],
                            "title": ["A (1994)", "B (1995)", "C (1971)", "D"],
                            "categories": [["Drama", "War"], ["Drama"], ["Comedy"], ["War"]]})
    hists = [[0, 1, 3], [2], [0, 2]]
    text = Facts(catalog, hists).profile(hists[0])
    p = shape.parse(text)
    assert p.valid
    assert p.interests == ("Drama", "War", "popular titles")  # 2 Drama, 2 War (by name), filled
    assert "mostly 1990s titles" in p.identity
    assert shape.parse(Facts(catalog, hists).profile([3])).valid  # no year, one category


def test_self_teacher_falls_back_to_the_extra_candidate(tmp_path, monkeypatch):
    import ctrlrec.profiles.teacher as teacher_mod

    monkeypatch.setattr(teacher_mod, "generate_cached",
                        lambda model, tok, prompts, *a, **k: ["I like films"] * len(prompts))
    t = teacher_mod.SelfTeacher(None, None, "self", "fp", GenerationCache(tmp_path / "c.jsonl"), n=2)
    extra = "User identity: avid viewer, niche taste, mostly 1990s titles; User interests: War, Drama, Comedy"
    best = t.write([[{"role": "user", "content": "u0"}]], None, None, [0], extra=[[extra]])
    assert best == [extra]


def _judged_teacher(tmp_path, monkeypatch, judge_right: bool, users: int):
    """A self teacher whose one sample ("space") always scores high, and a judge that answers the
    data-written profile's questions right (or wrong for half of them)."""
    import ctrlrec.profiles.teacher as teacher_mod

    sample = "User identity: student, parent, engineer; User interests: space, war, story"
    drawn = []

    def fake_generate(model, tok, prompts, *a, **k):
        drawn.append(len(prompts))
        return [sample] * len(prompts)

    monkeypatch.setattr(teacher_mod, "generate_cached", fake_generate)

    def fake_log_odds(model, tok, convs, batch_size=16, progress=False, **cached):
        out, n = [], 0
        for c in convs:
            yes = "Space" in c[-1]["content"]  # the probe's right answer
            if "space" in c[-2]["content"]:
                out.append(5.0 if yes else -5.0)  # the sample: always right, very sure
            else:
                right = judge_right or n % 2 == 0  # data-written: right, or right for half
                n += 1
                out.append((1.0 if yes else -1.0) * (1 if right else -1))
        return np.array(out)

    monkeypatch.setattr(teacher_mod, "log_odds", fake_log_odds)
    import pandas as pd

    from ctrlrec.profiles.prompts import ItemText

    text = ItemText(pd.DataFrame({"item_id": [0, 1], "title": ["Space war", "Love story"],
                                  "categories": [[], []]}))
    t = teacher_mod.SelfTeacher(None, None, "self", "fp", GenerationCache(tmp_path / "c.jsonl"), n=1)
    extra = "User identity: avid viewer, niche taste, mostly 1990s titles; User interests: War, Drama, Comedy"
    prompts = [[{"role": "user", "content": f"u{u}"}] for u in range(users)]
    probes = [[(0, True), (1, False)] for _ in range(users)]
    best = t.write(prompts, probes, text, list(range(users)), extra=[[extra]] * users)
    return t, best, sample, extra, drawn


def test_self_teacher_ranks_when_its_judge_beats_chance(tmp_path, monkeypatch):
    t, best, sample, _, drawn = _judged_teacher(tmp_path, monkeypatch, judge_right=True, users=4)
    assert t.judge["questions"] == 8 and t.judge["accuracy"] == 1.0 and t.judge["ranked"]
    assert drawn == [4]  # one sample per user (best-of-1)
    assert best == [sample] * 4  # the judge is trusted: the better-scored sample wins


def test_self_teacher_keeps_the_data_written_profile_when_its_judge_is_at_chance(tmp_path, monkeypatch):
    t, best, _, extra, drawn = _judged_teacher(tmp_path, monkeypatch, judge_right=False, users=4)
    assert t.judge["accuracy"] == 0.5 and not t.judge["ranked"] and t.judge["p_value"] > 0.5
    assert best == [extra] * 4  # its ranking is noise: every target is the data-written profile
    assert drawn == []  # and nothing was sampled for it


def test_judge_test_is_the_exact_one_sided_binomial():
    from ctrlrec.profiles.teacher import judge_test

    assert judge_test(5, 5, 0.05)["p_value"] == 1 / 32
    assert judge_test(0, 0, 0.05)["ranked"] is False
    r = judge_test(170, 320, 0.05)  # 53% of 320: not enough
    assert not r["ranked"] and 0.1 < r["p_value"] < 0.2
