"""Peak memory of one PPO step of `profiles rl` on the real profile policy, phase by phase.

`profiles rl` on the random split was killed by the kernel's OOM killer (24 GB resident) in its
first PPO step, twice. This script runs the step's phases on the same policy and prompts and prints
the process's peak resident memory after each: the rollout (sampling + no-grad scoring), then one
PPO epoch of mini-batch updates. Run it under a memory cap so a blow-up is an error, not a kill:

    prlimit --as=22000000000 python bench/ppo_memory.py --tuned runs/prof-train-random/two-round \
        --split random --cf-run runs/cf-ablation-ml-100k/random-lightgcn-none [--checkpointing]
"""

from __future__ import annotations

import argparse
import resource
import time

import torch

from ctrlrec.llm.device import choose
from ctrlrec.profiles.build import user_prompts
from ctrlrec.profiles.config import ProfilesConfig
from ctrlrec.profiles.context import build_context
from ctrlrec.profiles.rl import ppo_config
from ctrlrec.rl.model import ActorCritic, load_backbone
from ctrlrec.rl.rollout import collect
from ctrlrec.rl.update import advantages, ppo_update


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tuned", required=True)
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--split", default="random")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--cf-run", default=None)
    ap.add_argument("--users", type=int, default=4, help="prompts per step (2 samples each)")
    ap.add_argument("--mini-batch", type=int, default=4)
    ap.add_argument("--checkpointing", action="store_true", help="gradient checkpointing in the update")
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    cfg = ProfilesConfig(dataset=a.dataset, split=a.split, seed=a.seed, cf_run=a.cf_run, threads=a.threads)
    ctx = build_context(cfg)
    users = ctx.users[: a.users]
    prompts = [{"user": u, "messages": m} for u, m in zip(users, user_prompts(ctx, users, "collaborative"),
                                                          strict=True)]
    pcfg = ppo_config(cfg, a.tuned, "/tmp/unused", prompts_per_step=a.users, mini_batch_size=a.mini_batch,
                      ppo_epochs=1)
    model, tok = load_backbone(a.tuned, choose("cpu"))
    policy = ActorCritic(model, pcfg.lora_r, pcfg.lora_alpha, pcfg.target_modules,
                         gradient_checkpointing=a.checkpointing)
    print(f"loaded: peak {peak_gb():.1f} GB", flush=True)
    t = time.perf_counter()
    roll = collect(policy, tok, prompts, pcfg, seed=1)
    print(f"rollout: {len(roll)} responses, width {roll.tensors['input_ids'].shape[1]}, "
          f"{time.perf_counter() - t:.0f} s, peak {peak_gb():.1f} GB", flush=True)
    adv, returns = advantages(torch.zeros_like(roll.tensors["mask"]), roll, pcfg)
    opt = torch.optim.AdamW(policy.parameters(), lr=1e-5)
    t = time.perf_counter()
    ppo_update(policy, opt, roll, adv, returns, pcfg)
    print(f"update (1 epoch, mini-batch {a.mini_batch}, checkpointing {a.checkpointing}): "
          f"{time.perf_counter() - t:.0f} s, peak {peak_gb():.1f} GB", flush=True)


if __name__ == "__main__":
    main()
