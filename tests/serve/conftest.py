"""A tiny service: the tiny task dataset, an untrained tiny Llama, and the real app around them."""

from __future__ import annotations

import pytest

from ctrlrec.serve.config import ServeConfig


def make_rec(**overrides):
    import torch

    from ctrlrec.serve.engine import Recommender
    from tests.llm.tiny import tiny_model, tiny_tokenizer
    from tests.tasks.tiny import tiny_dataset

    torch.set_num_threads(1)  # the machine is shared; many threads only add contention
    tok = tiny_tokenizer()
    cfg = ServeConfig(model="tiny", dataset="tiny", prompt_history=3, history_max=20, text_max=200,
                      max_batch=4, max_wait_ms=5, queue_max=8, timeout_s=60, trie_cache=False)
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return Recommender(tiny_dataset(), tiny_model(tok), tok, cfg)


@pytest.fixture(scope="session")
def rec():
    return make_rec()


@pytest.fixture(scope="session")
def client(rec):
    from fastapi.testclient import TestClient

    from ctrlrec.serve.app import create_app

    with TestClient(create_app(rec)) as c:
        yield c
