import numpy as np
import pytest
import torch

from ctrlrec.errors import CtrlrecError
from ctrlrec.profiles.reward import (
    RewardScorer,
    longest,
    pair_accuracy,
    pairs,
    reward_args,
    train_reward_model,
)
from tests.profiles.helpers import tiny_scalar

pytest.importorskip("trl")

GOOD = ["User identity: student, engineer, parent; User interests: space, war, Sci-Fi",
        "User identity: parent, student, engineer; User interests: love, story, Romance",
        "User identity: engineer, parent, student; User interests: space, story, Sci-Fi",
        "User identity: student, parent, engineer; User interests: love, war, Romance"]
BAD = ["weather weather weather", "No No No", "Yes", "story story weather No"]


def _prompt(u):
    return [{"role": "user", "content": f"Write the profile of user {u}"}]


def test_pairs_use_wrong_prompts_and_substitution():
    rows = pairs({0: _prompt(0), 1: _prompt(1)}, {0: GOOD[0], 1: GOOD[1]}, {0: BAD[0]}, seed=0)
    rejected = [r["rejected"][0]["content"] for r in rows if r["chosen"][0]["content"] == GOOD[0]]
    assert sorted(rejected) == sorted([BAD[0], GOOD[1]])  # wrong-prompt profile and user 1's profile
    assert all(r["chosen"][0]["content"] != r["rejected"][0]["content"] for r in rows)
    kinds = {r["rejected"][0]["content"]: r["kind"] for r in rows if r["user"] == 0}
    assert kinds == {BAD[0]: "wrong", GOOD[1]: "other"}


def test_pair_accuracy_counts_chosen_above_rejected_by_kind():
    score = {GOOD[0]: 1.0, GOOD[1]: 0.2, BAD[0]: 0.5, BAD[1]: 0.2}

    def scorer(prompts, answers, progress=False):
        return np.array([score[a] for a in answers])

    def row(c, r, kind):
        return {"prompt": _prompt(0), "chosen": [{"role": "assistant", "content": c}],
                "rejected": [{"role": "assistant", "content": r}], "kind": kind}

    rows = [row(GOOD[0], BAD[0], "wrong"), row(GOOD[1], BAD[0], "wrong"), row(GOOD[1], BAD[1], "other")]
    acc = pair_accuracy(scorer, rows)
    assert acc["pairs"] == 3 and acc["accuracy"] == pytest.approx(1 / 3)  # a tie counts as wrong
    assert acc["by_kind"]["wrong"] == {"pairs": 2, "accuracy": 0.5, "margin": pytest.approx(0.1)}
    assert acc["by_kind"]["other"]["accuracy"] == 0.0
    assert pair_accuracy(scorer, [])["accuracy"] is None


def test_reward_model_ranks_toy_positives_above_negatives(tmp_path):
    torch.set_num_threads(1)
    model, tok = tiny_scalar()
    rows = [{"prompt": _prompt(u), "chosen": [{"role": "assistant", "content": GOOD[u % 4]}],
             "rejected": [{"role": "assistant", "content": BAD[(u + k) % 4]}]}
            for u in range(8) for k in range(2)]
    scorer = RewardScorer(model, tok)
    prompts = [_prompt(9)] * 8
    before = scorer(prompts, GOOD + BAD)
    trained = train_reward_model(model, tok, rows, tmp_path / "rm", epochs=6, lr=5e-3, lora_r=4,
                                 batch_size=8, progress=False)
    assert (tmp_path / "rm" / "adapter" / "adapter_config.json").is_file()
    after = RewardScorer(trained, tok)(prompts, GOOD + BAD)  # an unseen prompt
    assert after[:4].min() > after[4:].max()
    assert not (before[:4].min() > before[4:].max())  # it was learned, not given
    assert np.isfinite(after).all()


def test_profile_reward_scores_the_users_own_line_and_its_shape():
    from ctrlrec.profiles.rl import ProfileReward

    seen = []

    def scorer(prompts, answers):
        seen.extend(answers)
        return np.full(len(answers), 0.5)

    texts = ["User 7: User identity: student, parent, engineer; User interests: space, war, love\n"
             "User 8: User identity: x1, x2, x3; User interests: y1, y2, y3",
             "I like films"]
    samples = [{"user": 7, "messages": [], "rm_messages": _prompt(7)},
               {"user": 9, "messages": _prompt(9)}]
    j = ProfileReward(scorer, shape_weight=1.0)(texts, samples)
    assert seen[0] == "User identity: student, parent, engineer; User interests: space, war, love"
    assert j.list_rewards.tolist() == [1.5, -0.5]  # RM score +1 for the shape, -1 without it
    assert j.spans == [[], []] and all(len(x) == 0 for x in j.item_rewards)  # one scalar, last token


def test_reward_model_trains_in_fp32_on_a_cpu(tmp_path):
    # TRL defaults to bf16 autocast even on a CPU, where a step was ~20x slower than in fp32
    args = reward_args(tmp_path, on_gpu=False)
    assert args.bf16 is False and args.use_cpu
    assert args.per_device_train_batch_size == 4 and args.gradient_checkpointing is False


def test_pairs_longer_than_max_length_are_an_error_not_silently_dropped(tmp_path):
    model, tok = tiny_scalar()
    short = {"prompt": _prompt(1), "chosen": [{"role": "assistant", "content": GOOD[0]}],
             "rejected": [{"role": "assistant", "content": BAD[0]}]}
    long_ = {**short, "rejected": [{"role": "assistant", "content": " ".join(["weather"] * 300)}]}
    n_short, n_long = longest(tok, [short, long_])
    assert n_long > n_short + 250  # the longer side counts
    with pytest.raises(CtrlrecError, match="1 of 2 preference pairs are longer than max_length"):
        train_reward_model(model, tok, [short, long_], tmp_path / "rm", max_length=n_short + 10,
                           progress=False)
    assert not (tmp_path / "rm" / "adapter").exists()


def test_reward_accuracy_samples_training_pairs_up_to_a_cap_and_keeps_every_held_out_pair(tmp_path):
    from ctrlrec.profiles.rl import reward_accuracy

    def scorer(prompts, answers, progress=False):
        return np.array([1.0 if a in GOOD else 0.0 for a in answers])

    def row(u):
        return {"prompt": _prompt(u), "chosen": [{"role": "assistant", "content": GOOD[u % 4]}],
                "rejected": [{"role": "assistant", "content": BAD[u % 4]}], "kind": "wrong"}

    acc = reward_accuracy(scorer, [row(u) for u in range(50)], [row(u) for u in range(7)], tmp_path,
                          progress=False, train_cap=10)
    assert acc["train"]["pairs"] == 10 and acc["train"]["of"] == 50 and acc["held_out"]["pairs"] == 7
    assert acc["train"]["accuracy"] == 1.0 and acc["held_out"]["by_kind"]["wrong"]["accuracy"] == 1.0
    assert (tmp_path / "reward" / "accuracy.json").is_file()
