"""PPO on the tiny test model with the real scoring reward, at the demo's [rl] settings plus
overrides: does a setting learn, and how big are its updates?

Produces docs/results.md, "RL", the row 'the shipped PPO settings on the tiny model'.

    python bench/rl_tiny.py ['{"learning_rate": 3e-3}' ...]

Each argument is a JSON object of PPOConfig overrides (none: the shipped settings). Every setting is
run for seeds 0 and 1, 16 steps of 8 sequences (16 toy prompts asking for 'Action' titles, I1+;
8 of the 24 titles are Action), as in tests/rl/test_scoring_learning.py. Printed per setting: the
I1+ compliance over the first 2 and the last 4 steps (mean of the seeds), the KL to the reference
over the last 4 steps, the median approx-KL per update and the entropy at the first and last step.
"""

from __future__ import annotations

import copy
import json
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))  # the tiny model and prompts of tests/


def main() -> None:
    import numpy as np
    import torch

    torch.set_num_threads(1)
    from ctrlrec.rl.config import PPOConfig
    from ctrlrec.rl.model import ActorCritic
    from ctrlrec.rl.trainer import PPOTrainer
    from tests.rl.helpers import action_reward, action_samples, formatted_tiny, shipped_rl

    model, tok = formatted_tiny()
    reward = action_reward()
    for arg in sys.argv[1:] or ["{}"]:
        over = json.loads(arg)
        runs = []
        for seed in (0, 1):
            kw = dict(shipped_rl(), steps=16, max_new_tokens=36, save_every=16, tensorboard=False, seed=seed)
            kw.update(over)
            policy = ActorCritic(copy.deepcopy(model), kw["lora_r"], kw["lora_alpha"])
            with tempfile.TemporaryDirectory() as out:
                runs.append(PPOTrainer(PPOConfig(**kw), policy, tok, action_samples(16), reward, out,
                                       progress=False).train())
        c = np.array([[m["comply/I1+"] for m in r] for r in runs]).mean(0)
        kl = np.array([[m["kl"] for m in r] for r in runs]).mean(0)
        akl = np.median([m["approx_kl"] for r in runs for m in r[kw["critic_warmup_steps"]:]])
        ent = np.array([[m["entropy"] for m in r] for r in runs]).mean(0)
        print(f"{json.dumps(over)}: I1+ compliance {c[:2].mean():.2f} -> {c[-4:].mean():.2f}, "
              f"KL to the reference (last 4) {kl[-4:].mean():.2f}, approx-KL per update (median) "
              f"{akl:.1e}, entropy {ent[0]:.3f} -> {ent[-1]:.3f}", flush=True)


if __name__ == "__main__":
    main()
