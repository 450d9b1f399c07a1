import json

import pytest

from ctrlrec.tasks import replay
from ctrlrec.tasks.general import GENERAL_PROMPTS

tiny = pytest.importorskip("tests.llm.tiny")


def test_self_replay_generates_once_and_caches(tmp_path, monkeypatch):
    model_dir = tiny.tiny_model_dir(tmp_path)
    from ctrlrec.llm.generate import GenerationConfig

    sampled = GenerationConfig(max_new_tokens=8, do_sample=True, seed=1)  # greedy says nothing
    convs = replay.self_replay(str(model_dir), prompts=GENERAL_PROMPTS[:3], generation=sampled)
    assert 1 <= len(convs) <= 3
    assert all(c[0]["role"] == "user" and c[-1]["role"] == "assistant" for c in convs)
    path = replay.cache_path(str(model_dir))
    lines = path.read_text().splitlines()
    assert json.loads(lines[0])["messages"][0]["content"] in GENERAL_PROMPTS[:3]

    def boom(*a, **k):
        raise AssertionError("generated again")

    monkeypatch.setattr("ctrlrec.llm.generate.generate", boom)
    assert replay.self_replay(str(model_dir), prompts=GENERAL_PROMPTS[:3]) == convs

