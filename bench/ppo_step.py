"""Seconds per PPO step: one forward per row over prompt + response (before) vs each distinct prompt once
with its responses on its KV cache, with the exact gradient and without gradient through the prompt.

Produces docs/results.md, 'RL', the 'PPO step cost' table.

    python bench/ppo_step.py [--config configs/rl-grounded-ml100k.toml] [--rounds 2] [--only-prefix]

One rollout is sampled with the config's settings (the same sequences for every variant); then, per
variant and round, the rollout's log-probs/reference/values are recomputed (`evaluate_rollout`) and
the PPO epochs run (`ppo_update`), from the same adapter weights and optimizer state each time.
Rounds alternate the variants so that load from other processes falls on all of them alike. Printed:
the median seconds of each part, the ratio to the first variant (full rows), and the largest
|delta log p| of each variant's rollout log-probs against its (the routes compute the same function).
Mini-batches are cut to their longest response (`Rollout.rows(trim=True)`) in every variant.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's ctrlrec

def main() -> None:
    import torch

    from ctrlrec.rl.config import PPOConfig
    from ctrlrec.rl.prefix import KEYS
    from ctrlrec.rl.rollout import collect, evaluate_rollout
    from ctrlrec.rl.trainer import build
    from ctrlrec.rl.update import advantages, place_rewards, ppo_update

    ap = argparse.ArgumentParser()
    ap.add_argument("--config", default="configs/rl-grounded-ml100k.toml")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--only-prefix", action="store_true",
                    help="Skip the full-row variant (ratios then against the exact prompt-once one).")
    args = ap.parse_args()
    out_dir = tempfile.mkdtemp(prefix="ppo-step-")
    cfg = PPOConfig.from_toml(args.config, output_dir=out_dir, tensorboard=False)
    tr = build(cfg, progress=False)
    pol = tr.policy
    batch = [tr.prompts[i] for i in range(cfg.prompts_per_step)]
    t0 = time.perf_counter()
    roll = collect(pol, tr.tok, batch, cfg, seed=1, decoder=tr.decoder)
    t_collect = time.perf_counter() - t0
    judged = tr.reward_fn(roll.texts, [batch[i] for i in roll.prompt_index])
    rewards, _ = place_rewards(tr.tok, roll, judged, cfg)
    adv, returns = advantages(rewards, roll, cfg)
    prompt_tokens = roll.tensors["prefix_mask"].sum(1).float().mean().item() + 1
    print(f"{len(roll)} sequences, {prompt_tokens:.0f} prompt tokens and "
          f"{roll.tensors['mask'].sum(1).mean().item():.0f} response tokens on average; "
          f"collect (sample + evaluate) {t_collect:.1f} s", flush=True)

    weights = [p.detach().clone() for p in pol.parameters()]
    opt_state = copy.deepcopy(tr.optimizer.state_dict())
    full_tensors = {k: v for k, v in roll.tensors.items() if k not in KEYS}
    prefix_tensors = dict(roll.tensors)
    variants = {"full rows": (full_tensors, True), "prompt once, exact gradient": (prefix_tensors, True),
                "prompt once, no prompt gradient": (prefix_tensors, False)}
    if args.only_prefix:
        del variants["full rows"]
    base_name = next(iter(variants))
    times: dict[str, dict[str, list[float]]] = {v: {"evaluate": [], "update": []} for v in variants}
    logps: dict[str, torch.Tensor] = {}
    for r in range(args.rounds):
        names = list(variants) if r % 2 == 0 else list(reversed(variants))
        for name in names:
            tensors, prompt_grad = variants[name]
            with torch.no_grad():
                for p, w in zip(pol.parameters(), weights, strict=True):
                    p.copy_(w)
            tr.optimizer.load_state_dict(copy.deepcopy(opt_state))
            pol.prompt_grad = prompt_grad
            roll.tensors = tensors
            t0 = time.perf_counter()
            evaluate_rollout(pol, roll, cfg.temperature, cfg.rollout_batch_size)
            t1 = time.perf_counter()
            gen = torch.Generator().manual_seed(2)
            ppo_update(pol, tr.optimizer, roll, adv, returns, cfg, gen)
            t2 = time.perf_counter()
            times[name]["evaluate"].append(t1 - t0)
            times[name]["update"].append(t2 - t1)
            logps[name] = roll.logp.clone()
            print(f"round {r + 1} {name}: evaluate {t1 - t0:.1f} s, update {t2 - t1:.1f} s", flush=True)
    base = {part: statistics.median(v) for part, v in times[base_name].items()}
    print(f"\nppo_epochs {cfg.ppo_epochs}, mini_batch_size {cfg.mini_batch_size}, "
          f"{args.rounds} rounds (median)")
    print(f"{'variant':34s} {'evaluate s':>10s} {'update s':>9s} {'x faster':>9s} {'max |d logp|':>13s}")
    for name in variants:
        med = {part: statistics.median(v) for part, v in times[name].items()}
        total, base_total = med["evaluate"] + med["update"], base["evaluate"] + base["update"]
        dlogp = float(((logps[name] - logps[base_name]) * roll.tensors["mask"]).abs().max())
        print(f"{name:34s} {med['evaluate']:10.1f} {med['update']:9.1f} {base_total / total:9.2f} "
              f"{dlogp:13.2e}")


if __name__ == "__main__":
    main()
