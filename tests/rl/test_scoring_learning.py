"""PPO with the real scoring reward (spec §5) at the demo's shipped [rl] settings moves the policy
away from its reference and raises the reward, against a frozen-actor control on the same prompts,
seeds and steps: the settings are not only runnable, they learn.

One setting is scaled to the tiny model: its learning rate. The shipped 1e-3 puts the 135M model's
approx-KL per update at ~1e-3 (docs/results.md, "RL"); on the tiny model it gives a median of
2.6e-4 and 3e-3 gives 2.7e-3 (`python bench/rl_tiny.py`, 2026-12-04), so the test runs at 3e-3 and
checks that the update size is in the band the shipped rate is chosen for."""

import copy

import numpy as np

from ctrlrec.rl.config import PPOConfig
from ctrlrec.rl.model import ActorCritic
from ctrlrec.rl.trainer import PPOTrainer
from tests.rl.helpers import action_reward, action_samples, shipped_rl


def test_scoring_reward_at_the_shipped_settings_moves_the_policy_and_rises(formatted, tmp_path):
    model, tok = formatted
    reward = action_reward()
    shipped = shipped_rl()
    assert shipped["learning_rate"] >= 1e-3  # the demo's lr; 2e-5 left approx-KL at ~1e-6
    shipped["learning_rate"] = shipped["critic_learning_rate"] = 3e-3  # the tiny model's equivalent
    runs = {"trained": [], "frozen": []}
    for seed in (0, 1, 2):
        kw = dict(shipped, steps=16, max_new_tokens=36, save_every=16, tensorboard=False, seed=seed)
        for name, extra in (("trained", {}), ("frozen", {"critic_warmup_steps": kw["steps"]})):
            tr = PPOTrainer(PPOConfig(**{**kw, **extra}), ActorCritic(copy.deepcopy(model), kw["lora_r"],
                                                                      kw["lora_alpha"]),
                            tok, action_samples(16), reward, tmp_path / f"{name}{seed}", progress=False)
            runs[name].append(tr.train())

    def series(name, key):
        return np.array([[m[key] for m in run] for run in runs[name]]).mean(0)

    comply, control = series("trained", "comply/I1+"), series("frozen", "comply/I1+")
    kl, kl_frozen = series("trained", "kl"), series("frozen", "kl")
    warm = shipped["critic_warmup_steps"]  # those steps leave the actor, and its approx-KL, at rest
    step_kl = np.median([m["approx_kl"] for run in runs["trained"] for m in run[warm:]])
    assert 1e-3 <= step_kl <= 5e-2, step_kl  # RLHF practice's band per update, not ~1e-6
    # the untrained share of Action lines is ~1/3; training must lift it above its start and the
    # control. Over the second half (8 steps x 3 seeds): a last-4-steps window of 2 seeds swung by
    # +-0.06 between runs and CPUs (the sampled rollouts are not bit-reproducible across kernels).
    # 2026-12-04, an AVX2 CPU: second half 0.549 trained, 0.477 frozen, 0.403 over the first 2 steps
    late, late_control = comply[8:].mean(), control[8:].mean()
    assert late > comply[:2].mean() + 0.1, comply.round(2).tolist()
    assert late > late_control + 0.04, (comply.round(2), control.round(2))
    # and the policy leaves its reference (the frozen actor stays on it)
    assert kl[-4:].mean() > 0.05 and abs(kl_frozen).max() < 0.05, (kl.round(3), kl_frozen.round(3))
