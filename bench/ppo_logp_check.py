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

from ctrlrec.llm.device import choose
from ctrlrec.profiles.build import user_prompts
from ctrlrec.profiles.config import ProfilesConfig
from ctrlrec.profiles.context import build_context
from ctrlrec.profiles.rl import ppo_config
from ctrlrec.rl.losses import approx_kl
from ctrlrec.rl.model import ActorCritic, load_backbone
from ctrlrec.rl.rollout import collect


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tuned", required=True)
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--split", default="random")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--cf-run", default=None)
    ap.add_argument("--users", type=int, default=4, help="prompts in the rollout (2 samples each)")
    ap.add_argument("--mini-batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = ProfilesConfig(dataset=a.dataset, split=a.split, seed=a.seed, cf_run=a.cf_run, threads=a.threads)
    ctx = build_context(cfg)
    users = ctx.users[: a.users]
    prompts = [{"user": u, "messages": m} for u, m in zip(users, user_prompts(ctx, users, "collaborative"),
                                                          strict=True)]
    pcfg = ppo_config(cfg, a.tuned, "/tmp/unused", prompts_per_step=a.users, mini_batch_size=a.mini_batch)
    model, tok = load_backbone(a.tuned, choose("cpu"))
    policy = ActorCritic(model, pcfg.lora_r, pcfg.lora_alpha, pcfg.target_modules)
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
