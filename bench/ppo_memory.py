"""Peak memory of one PPO step of `profiles rl` on the real profile policy, phase by phase.

`profiles rl` on the random split was killed by the kernel's OOM killer (24 GB resident) in its
first PPO step, twice. This script runs the step's phases on the same policy and prompts and prints
the process's peak resident memory after each: the rollout (sampling + no-grad scoring), then one
PPO epoch of mini-batch updates. Run it under a memory cap so a blow-up is an error, not a kill:

    prlimit --as=21000000000 python bench/ppo_memory.py --tuned runs/prof-train-random/two-round \
        --split random --cf-run runs/cf-ablation-ml-100k/random-lightgcn-none [--checkpointing]
"""

from __future__ import annotations

import argparse
import resource
import time

import torch
from profile_policy import add_args, setup  # bench/profile_policy.py

from ctrlrec.rl.model import ActorCritic
from ctrlrec.rl.rollout import collect
from ctrlrec.rl.update import advantages, ppo_update


def peak_gb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6  # KiB on Linux


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    add_args(ap)
    ap.add_argument("--checkpointing", action="store_true", help="gradient checkpointing in the update")
    a = ap.parse_args()
    prompts, pcfg, model, tok = setup(a, ppo_epochs=1, gradient_checkpointing=a.checkpointing)
    policy = ActorCritic.from_config(model, pcfg)
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
