"""Multi-turn PPO on the tiny model: episodes of several turns against the simulator, one PPO update
per turn on the turn's last token, the reference policy untouched, checkpoints that resume."""

from __future__ import annotations

import numpy as np
import pytest

from ctrlrec.crs.episodes import CRSRLConfig, MultiTurnPPO, SimulatorReward, format_rewards
from ctrlrec.crs.labels import LabelWeights
from ctrlrec.crs.simulator import UserSimulator
from ctrlrec.rl.logger import read_csv
from ctrlrec.scoring import Catalog
from tests.crs.toy import toy_dataset


@pytest.fixture(scope="module")
def formatted():
    from tests.rl.helpers import formatted_tiny

    return formatted_tiny()


class Recording(SimulatorReward):
    """The simulator's label as reward, remembering every (conversation, feedback) it judged."""

    def __init__(self):
        super().__init__(LabelWeights())
        self.seen = []

    def __call__(self, conversations, feedbacks):
        self.seen.append((conversations, feedbacks))
        return super().__call__(conversations, feedbacks)


def test_multi_turn_rollout_and_updates(formatted, tmp_path):
    import copy

    import torch

    from ctrlrec.rl.model import ActorCritic

    model, tok = formatted
    ds = toy_dataset()
    cfg = CRSRLConfig(steps=2, prompts_per_step=3, k=3, max_turns=3, leave_prob=0.0, max_new_tokens=40,
                      ppo_epochs=1, mini_batch_size=3, learning_rate=3e-3, tensorboard=False, save_every=1,
                      format_weight=0.5, target_kl=0.0)
    sim = UserSimulator(ds, cfg.sim_config(), seed=0)
    reward = Recording()
    policy = ActorCritic(copy.deepcopy(model))
    cat = Catalog.from_frame(ds.catalog)
    tr = MultiTurnPPO(cfg, policy, tok, sim, reward, cat, tmp_path, progress=False)
    before = [p.detach().clone() for p in policy.lora["actor"]]
    hist = tr.train()
    assert len(hist) == 2 and tr.step == 2
    # one reward call per turn: 3 turns x 2 steps (leave_prob 0: nobody leaves early)
    assert len(reward.seen) == 6
    for m in hist:
        assert [m[f"turn{t}/live"] for t in (1, 2, 3)] == [3.0, 3.0, 3.0]
        assert {"turn1/reward", "turn3/label", "reward/rm", "reward/format", "kl", "sim/accept_rate",
                "loss/policy"} <= set(m)
    # the state grows turn by turn: turn t+1 sees turn t's answer and the user's reply
    c1, c2 = reward.seen[0][0][0], reward.seen[1][0][0]
    assert len(c2) == len(c1) + 2 and c2[: len(c1)] == c1 and c2[len(c1)]["role"] == "user"
    assert c1[-1]["role"] == "assistant" and c1[-1]["content"]
    # the actor moved; the reference (adapters off) is the untouched SFT model
    assert any(not torch.equal(a, b) for a, b in zip(before, policy.lora["actor"], strict=True))
    ids = tok("<|im_start|>user\nhi<|im_end|>\n", add_special_tokens=False)["input_ids"]
    x = torch.tensor([ids])
    with torch.no_grad(), policy.peft.disable_adapter():
        ref = policy.peft(input_ids=x).logits
    assert torch.allclose(ref, model(input_ids=x).logits, atol=1e-5)
    rows = read_csv(tmp_path / "metrics.csv")
    assert [r["step"] for r in rows] == [1.0, 2.0]
    # resume: a fresh trainer picks up the newest checkpoint
    again = MultiTurnPPO(cfg, ActorCritic(copy.deepcopy(model)), tok, sim, Recording(), cat, tmp_path,
                         progress=False)
    assert again.resume() == 2
    pairs = zip(again.policy.lora["actor"], policy.lora["actor"], strict=True)
    assert all(torch.equal(a, b) for a, b in pairs)


def test_same_seed_same_episodes(formatted, tmp_path):
    """Sampling and the simulator are seeded: two runs of one step give the same dialogues."""
    import copy

    from ctrlrec.rl.model import ActorCritic

    model, tok = formatted
    ds = toy_dataset()
    cfg = CRSRLConfig(steps=1, prompts_per_step=2, k=3, max_turns=2, max_new_tokens=30, ppo_epochs=1,
                      mini_batch_size=2, tensorboard=False)
    texts = []
    for run in range(2):
        reward = Recording()
        tr = MultiTurnPPO(cfg, ActorCritic(copy.deepcopy(model)), tok, UserSimulator(ds, cfg.sim_config()),
                          reward, Catalog.from_frame(ds.catalog), tmp_path / str(run), progress=False)
        tr.train()
        texts.append([c[-1]["content"] for convs, _ in reward.seen for c in convs])
    assert texts[0] == texts[1]


def test_format_reward_prefers_k_catalog_titles():
    ds = toy_dataset()
    cat = Catalog.from_frame(ds.catalog)
    titles = ds.catalog["title"].tolist()
    good = "\n".join(f"{j + 1}. {t}" for j, t in enumerate(titles[:3]))
    repeat = f"1. {titles[0]}\n2. {titles[0]}\n3. {titles[5]}"
    r = format_rewards(cat, [good, "1. Nothing at all\n2. Nope", repeat], 3, [[], [], []])
    assert r[0] == pytest.approx(1.0) and r[1] < 0 and r[0] > r[2]
    assert np.all(np.isfinite(r))
