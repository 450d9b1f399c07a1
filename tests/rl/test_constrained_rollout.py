"""Rollouts decoded over each prompt's candidates (PPOConfig.rollout_decoding = "catalog"): every
sampled list is legal, and PPO's log-probs are those of the constrained distribution it sampled."""

import pandas as pd
import pytest
import torch

from ctrlrec.llm.decoding import CatalogDecoder
from ctrlrec.rl.config import PPOConfig
from ctrlrec.rl.model import ActorCritic
from ctrlrec.rl.rewards import LineRule
from ctrlrec.rl.rollout import collect
from ctrlrec.rl.trainer import PPOTrainer
from ctrlrec.scoring import Catalog, parse_lines
from tests.rl.helpers import TITLES, prompts


@pytest.fixture(scope="module")
def catalog():
    return Catalog.from_frame(pd.DataFrame({"item_id": range(len(TITLES)), "title": TITLES,
                                            "categories": [["Drama"]] * len(TITLES)}))


def _prompts(n):
    out = []
    for i, p in enumerate(prompts(n)):
        # a pool of 6 items, two of them in the history (which must never be answered)
        pool = [(i + 3 + j) % len(TITLES) for j in range(4)] + list(p["history"][:2])
        out.append({**p, "candidates": pool})
    return out


def _cfg(**kw):
    base = dict(steps=2, prompts_per_step=4, responses_per_prompt=2, rollout_batch_size=8, max_new_tokens=8,
                mini_batch_size=4, learning_rate=1e-2, save_every=2, tensorboard=False, target_kl=0.0,
                rollout_decoding="catalog")
    base.update(kw)
    return PPOConfig(**base)


def test_constrained_rollouts_are_legal_and_scored_under_their_constraint(formatted, catalog, tmp_path):
    model, tok = formatted
    cfg = _cfg()
    policy = ActorCritic(model, cfg.lora_r, cfg.lora_alpha)
    torch.nn.init.normal_(policy.lora["actor"][1], std=0.05)
    decoder = CatalogDecoder(tok, catalog, cache=False)
    ps = _prompts(4)
    roll = collect(policy, tok, ps, cfg, seed=3, decoder=decoder)
    for text, i in zip(roll.texts, roll.prompt_index, strict=True):
        p = ps[i]
        titles = list(parse_lines(text).titles)
        ids = [TITLES.index(t) for t in titles]  # every line an exact catalog title
        assert len(ids) == p["k"] and len(set(ids)) == len(ids)
        assert set(ids) <= set(p["candidates"]) and not set(ids) & set(p["history"])
    allowed, resp, mask = roll.tensors["allowed"], roll.tensors["response"], roll.tensors["mask"]
    assert allowed.shape[:2] == resp.shape
    picked = allowed.gather(-1, resp.unsqueeze(-1)).squeeze(-1)
    assert bool(picked[mask > 0].all())  # every sampled token was allowed where it was sampled
    assert bool((allowed.sum(-1)[mask > 0] < allowed.shape[-1]).any())  # and the mask restricted something
    # the update's log-probs equal the rollout's before any step, and exceed the unconstrained ones
    policy.train(True)
    b = roll.rows(torch.arange(len(roll)))
    logp = policy.logprobs(b, "actor", cfg.temperature) * mask
    assert torch.allclose(logp, roll.logp, atol=1e-5)
    free = policy.logprobs({k: v for k, v in b.items() if k != "allowed"}, "actor", cfg.temperature) * mask
    assert bool((logp >= free - 1e-6).all()) and float((logp - free).sum()) > 1.0
    _, ent = policy.logprobs(b, "actor", cfg.temperature, with_entropy=True)
    assert torch.isfinite(ent).all()


def test_a_ppo_step_with_constrained_rollouts_trains(formatted, catalog, tmp_path):
    model, tok = formatted
    cfg = _cfg()
    policy = ActorCritic(model, cfg.lora_r, cfg.lora_alpha)
    before = [p.detach().clone() for p in policy.lora["actor"]]
    tr = PPOTrainer(cfg, policy, tok, _prompts(8), LineRule("Movie A"), tmp_path,
                    progress=False, decoder=CatalogDecoder(tok, catalog, cache=False))
    m = tr.run_step()
    assert m["response_tokens"] > 0 and all(v == v for k, v in m.items() if isinstance(v, float) and
                                            not k.startswith("reward/item_mean"))
    assert any(not torch.equal(a, b) for a, b in zip(before, policy.lora["actor"], strict=True))
