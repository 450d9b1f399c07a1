"""Shared set-up of the bench scripts that run `profiles rl`'s PPO on a real tuned profile policy
(bench/ppo_logp_check.py, bench/ppo_memory.py): arguments, the first users' collaborative prompts,
the PPO config `profiles rl` would use, and the loaded policy backbone."""

from __future__ import annotations

import argparse

import torch

from ctrlrec.llm.device import choose
from ctrlrec.profiles.build import user_prompts
from ctrlrec.profiles.config import ProfilesConfig
from ctrlrec.profiles.context import build_context
from ctrlrec.profiles.rl import ppo_config
from ctrlrec.rl.model import load_backbone


def add_args(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--tuned", required=True, help="a `profiles train` stage run, e.g. RUN/two-round")
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--split", default="random")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--cf-run", default=None)
    ap.add_argument("--users", type=int, default=4, help="prompts in the rollout (2 samples each)")
    ap.add_argument("--mini-batch", type=int, default=4)
    ap.add_argument("--threads", type=int, default=2)


def setup(a: argparse.Namespace, **ppo_over):
    """(prompts, PPO config, backbone, tokenizer) for the first `a.users` users."""
    torch.set_num_threads(a.threads)
    cfg = ProfilesConfig(dataset=a.dataset, split=a.split, seed=a.seed, cf_run=a.cf_run, threads=a.threads)
    ctx = build_context(cfg)
    users = ctx.users[: a.users]
    prompts = [{"user": u, "messages": m} for u, m in zip(users, user_prompts(ctx, users, "collaborative"),
                                                          strict=True)]
    pcfg = ppo_config(cfg, a.tuned, "/tmp/unused", prompts_per_step=a.users, mini_batch_size=a.mini_batch,
                      **ppo_over)
    model, tok = load_backbone(a.tuned, choose("cpu"))
    return prompts, pcfg, model, tok
