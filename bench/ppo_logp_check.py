"""Do PPO's update log-probs equal the rollout's before any step, on the real profile policy?

PPO's ratio and approximate KL compare them; before the first optimizer step they must agree, or the
first mini-batch already shows a KL (and `target_kl` may stop the epoch before any update). The
tiny-model test (`tests/rl/test_model.py`) checks this; this script checks it on a tuned profile
policy with the collaborative prompts of `profiles rl` (~1,400 tokens), where padding, length and
the model's own attention code are the real ones. Prints the approximate KL and the largest
log-prob difference per mini-batch, then the mean.

    python bench/ppo_logp_check.py --tuned runs/prof-train-cold-item/two-round --split cold-item \
        --cf-run runs/cf-ablation-ml-100k/cold-item-lightgcn-none
"""

from __future__ import annotations

import argparse

import torch
from profile_policy import add_args, setup  # bench/profile_policy.py

from ctrlrec.rl.losses import approx_kl
from ctrlrec.rl.model import ActorCritic
from ctrlrec.rl.rollout import collect


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_args(ap)
    a = ap.parse_args()
    prompts, pcfg, model, tok = setup(a)
    policy = ActorCritic.from_config(model, pcfg)  # as `profiles rl` builds it
    torch.manual_seed(0)
    for p in policy.lora["actor"]:  # a moved actor, as after some PPO steps (B is zero at init)
        if p.dim() == 2:
            p.data.add_(torch.randn_like(p) * 1e-3)
    roll = collect(policy, tok, prompts, pcfg, seed=1)
    print(f"{len(roll)} responses, {int(roll.tensors['mask'].sum())} response tokens, "
          f"sequence width {roll.tensors['input_ids'].shape[1]}")
    policy.train(True)
    kls = []
    perm = torch.randperm(len(roll), generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        for s in range(0, len(roll), a.mini_batch):
            idx = perm[s: s + a.mini_batch]
            mask = roll.tensors["mask"][idx]
            logp = policy.logprobs(roll.rows(idx), "actor", pcfg.temperature) * mask
            kl = approx_kl(logp, roll.logp[idx], mask).item()
            kls.append(kl)
            print(f"mini-batch {idx.tolist()}: approx-KL {kl:.2e}, "
                  f"max |logp diff| {(logp - roll.logp[idx]).abs().max().item():.2e}")
    print(f"mean approx-KL before any step: {sum(kls) / len(kls):.2e}")


if __name__ == "__main__":
    main()
