"""Weak labels, the pairwise ranking loss against hand-computed values, pairs, and the reward model
learning a toy preference with the tiny Llama."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ctrlrec.crs.dialogue import Dialogue, Feedback, Turn
from ctrlrec.crs.labels import LabelWeights, weak_label
from ctrlrec.crs.rm_data import Example, examples, pairs, split_groups
from ctrlrec.errors import CtrlrecError
from tests.llm.tiny import TITLES


def test_weak_label_formula_and_parsing():
    w = LabelWeights.parse("accepted=1,sentiment=0.5,dwell=0.4,went_on=0.25,dwell_cap=60")
    fb = Feedback(accepted=True, sentiment=-0.4, dwell=30.0, went_on=False)
    assert weak_label(fb, w) == pytest.approx(1 - 0.2 + 0.4 * 0.5 + 0)
    assert weak_label(Feedback(dwell=600.0), w) == pytest.approx(0.4 + 0.25)  # dwell capped at 1
    with pytest.raises(CtrlrecError, match="label weight 'speed'"):
        LabelWeights.parse("speed=2")


def test_pairwise_loss_hand_computed():
    import torch

    from ctrlrec.crs.reward_model import pairwise_accuracy, pairwise_loss

    loss = pairwise_loss(torch.tensor([1.0, 0.0, -2.0]), torch.tensor([0.0, 0.0, 1.0]))
    # -log sigmoid(1) = 0.3132617, -log sigmoid(0) = log 2, -log sigmoid(-3) = 3.0485874
    assert float(loss) == pytest.approx((0.3132617 + math.log(2) + 3.0485874) / 3, abs=1e-6)
    assert pairwise_accuracy(np.array([1.0, 0.0, -2.0]), np.array([0.0, 0.0, 1.0])) == pytest.approx(0.5)


def test_pairs_stay_within_a_group_and_split_by_group():
    exs = [Example("a", [], 1.0), Example("a", [], 0.0), Example("a", [], 0.95), Example("b", [], 0.5),
           Example("c", [], 0.2), Example("c", [], 0.9)]
    got = pairs(exs, min_gap=0.1)
    assert sorted(got) == [(0, 1), (2, 1), (5, 4)]
    train, valid = split_groups(exs, 0.34, seed=0)
    assert len(valid) == 1 and train | valid == {"a", "b", "c"} and not train & valid


def _toy_dialogues(n: int) -> list[Dialogue]:
    """A user who takes titles starting with 'Movie A' and refuses the rest (two turns per state)."""
    rng = np.random.default_rng(0)
    good = [t for t in TITLES if t.startswith("Movie A")]
    bad = [t for t in TITLES if not t.startswith("Movie A")]
    out = []
    for j in range(n):
        g, b = str(rng.choice(good)), str(rng.choice(bad))
        yes, no = Feedback(True, 0.8, 90.0, True), Feedback(False, -0.6, 5.0, False)
        first, second = (g, yes), (b, no)
        if j % 2:
            first, second = second, first
        out.append(Dialogue(f"d{j}", [Turn("user", "Recommend a movie."),
                                      Turn("recommender", f"1. {first[0]}", [], first[1],
                                           [Turn("recommender", f"1. {second[0]}", [], second[1])])]))
    return out


def test_examples_carry_state_and_alternatives():
    d = _toy_dialogues(1)[0]
    exs = examples([d], LabelWeights(), k=1)
    assert len(exs) == 2 and all(e.group == "d0" for e in exs)
    assert exs[0].messages[1] == {"role": "user", "content": "Recommend a movie."}
    assert exs[0].messages[-1]["role"] == "assistant" and exs[0].label > exs[1].label


def test_reward_model_learns_a_toy_preference(tmp_path):
    import torch

    from ctrlrec.crs.reward_model import RewardModel, RMConfig, fit
    from tests.llm.tiny import tiny_model, tiny_tokenizer

    torch.manual_seed(0)
    tok = tiny_tokenizer()
    rm = RewardModel(tiny_model(tok, init=0.02), tok, lora_r=8, lora_alpha=16, max_length=64)
    exs = examples(_toy_dialogues(40), LabelWeights(), k=1)
    cfg = RMConfig(steps=60, batch_pairs=8, learning_rate=1e-2, valid_share=0.25, eval_every=30)
    m = fit(rm, exs, cfg, tmp_path, progress=False)
    assert m["valid_pairs"] == 10 and m["train_pairs"] == 30
    assert m["valid_acc"] >= 0.9 and m["valid_acc"] > m["valid_acc_before"]
    assert (tmp_path / "metrics.csv").is_file()
    s = rm.score([[{"role": "user", "content": "Recommend a movie."},
                   {"role": "assistant", "content": "1. Movie AB (1981)"}],
                  [{"role": "user", "content": "Recommend a movie."},
                   {"role": "assistant", "content": "1. Movie DB (1984)"}]])
    assert s[0] > s[1]
    # save -> load through a run folder gives the same scores
    rm.save(tmp_path)
    from peft import PeftModel

    base = tiny_model(tok, init=0.02)
    again = RewardModel(base, tok, max_length=64, adapter=tmp_path / "adapter")
    from safetensors.torch import load_file

    again.head.load_state_dict(load_file(str(tmp_path / "head.safetensors")))
    assert isinstance(again.peft, PeftModel)
    conv = [{"role": "user", "content": "Recommend a movie."},
            {"role": "assistant", "content": "1. Movie AB (1981)"}]
    assert np.allclose(again.score([conv]), s[:1], atol=1e-5)


def test_reward_model_resumes_exactly_and_refuses_other_data(tmp_path):
    import torch

    from ctrlrec.crs.reward_model import RewardModel, RMConfig, fit
    from tests.llm.tiny import tiny_model, tiny_tokenizer

    tok = tiny_tokenizer()
    exs = examples(_toy_dialogues(40), LabelWeights(), k=1)
    conv = [[{"role": "user", "content": "Recommend a movie."},
             {"role": "assistant", "content": "1. Movie AB (1981)"}]]

    def run(folder, steps, data=exs):
        torch.manual_seed(0)
        rm = RewardModel(tiny_model(tok, init=0.02), tok, lora_r=4, lora_alpha=8, max_length=64)
        cfg = RMConfig(steps=steps, batch_pairs=4, learning_rate=1e-2, valid_share=0.25, eval_every=5,
                       save_every=5)
        return fit(rm, data, cfg, folder, progress=False), rm.score(conv)

    whole, s_whole = run(tmp_path / "a", 12)
    run(tmp_path / "b", 7)  # stopped after 7 steps: its checkpoint holds step 7 (the last)
    resumed, s_resumed = run(tmp_path / "b", 12)  # a longer run into the same folder resumes
    assert json.loads((tmp_path / "b" / "checkpoint" / "state.json").read_text())["step"] == 12
    assert np.allclose(s_resumed, s_whole, atol=1e-6)
    assert resumed["valid_acc"] == whole["valid_acc"]
    assert resumed["valid_acc_before"] == whole["valid_acc_before"]
    steps = [r.split(",")[0] for r in (tmp_path / "b" / "metrics.csv").read_text().splitlines()[1:]]
    assert steps == [f"{float(i)!r}" for i in range(1, 13)]  # every step once
    with pytest.raises(CtrlrecError, match="other dialogues"):
        run(tmp_path / "b", 20, data=exs[::-1])
