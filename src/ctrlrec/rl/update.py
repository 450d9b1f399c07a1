"""From a judged rollout to gradient steps: rewards on tokens, whitening, GAE, PPO epochs.

`advantages` turns a rollout and its judgement into per-token rewards (placement), whitens them,
runs GAE against the critic's rollout values and whitens the advantages. `ppo_update` then makes
several passes over the batch in shuffled mini-batches (whole prompt groups, so each prompt runs
once in a mini-batch): the clipped policy loss minus the entropy bonus trains the actor, the
clipped value loss trains the critic and its value head. A pass stops
early, before stepping, once a mini-batch's approximate KL to the rollout policy exceeds
1.5 x target_kl (the rule of Stable-Baselines3 and TRL's first PPO trainer).
"""

from __future__ import annotations

import numpy as np

from ctrlrec.rl.gae import gae
from ctrlrec.rl.losses import approx_kl, masked_mean, policy_loss, value_loss, whiten
from ctrlrec.rl.placement import title_end_tokens, token_rewards


def place_rewards(tok, roll, judged, cfg):
    """[N, R] per-token rewards and the per-response sums of each component (for logging)."""
    import torch

    mask = roll.tensors["mask"]
    rewards = torch.zeros_like(mask)
    comp = {"item": [], "list": [], "kl": []}
    for i, ids in enumerate(roll.response_ids):
        n = len(ids)
        toks = title_end_tokens(tok, ids, judged.spans[i], roll.texts[i])
        r = token_rewards(n, toks, judged.item_rewards[i], judged.list_rewards[i], cfg.list_scale,
                          roll.logp[i], roll.ref_logp[i], cfg.kl_coef, cfg.item_reward,
                          list_credit=cfg.list_credit)
        rewards[i, :n] = r.to(rewards.device)
        comp["item"].append(float(np.sum(judged.item_rewards[i])) if cfg.item_reward else 0.0)
        comp["list"].append(cfg.list_scale * float(judged.list_rewards[i]))
        comp["kl"].append(float(-cfg.kl_coef * (roll.logp[i, :n] - roll.ref_logp[i, :n]).sum()))
    return rewards, comp


def advantages(rewards, roll, cfg):
    """(advantages, returns) from per-token rewards: optional reward whitening (scale only), GAE
    with the rollout values, then advantage whitening."""
    mask = roll.tensors["mask"]
    if cfg.whiten_rewards:
        rewards = whiten(rewards, mask, shift_mean=False)
    adv, returns = gae(rewards, roll.values, mask, cfg.gamma, cfg.lam)
    return whiten(adv, mask), returns


def _shuffled(prompt_index: list[int], generator):
    """The rows in a random order of whole prompt groups: a mini-batch holds a prompt's responses
    together, so its prompt runs once for all of them (rl/prefix.py)."""
    import torch

    rows = torch.tensor(prompt_index)
    distinct = torch.unique(rows)
    perm = distinct[torch.randperm(len(distinct), generator=generator)]
    return torch.cat([torch.nonzero(rows == g).flatten() for g in perm])


def ppo_update(policy, optimizer, roll, adv, returns, cfg, generator=None, train_actor: bool = True) -> dict:
    """PPO epochs over one batch; returns the means of the loss terms and diagnostics.

    `train_actor=False` (the critic's warm-up steps) computes the policy terms for logging but
    backpropagates only the value loss, so the actor's weights do not move.
    """
    import torch

    n = len(roll)
    mask_all = roll.tensors["mask"]
    params = policy.parameters()
    stats: dict[str, list[float]] = {k: [] for k in (
        "loss/policy", "loss/value", "entropy", "clipfrac", "clipfrac_value", "approx_kl", "grad_norm")}
    policy.train(True)
    epochs, stopped = 0, False
    for _ in range(cfg.ppo_epochs):
        perm = _shuffled(roll.prompt_index, generator)
        for s in range(0, n, cfg.mini_batch_size):
            idx = perm[s: s + cfg.mini_batch_size].to(mask_all.device)
            b = roll.rows(idx, trim=True)
            w = b["mask"].shape[1]  # the mini-batch's longest response
            mask = b["mask"]
            with torch.set_grad_enabled(train_actor):  # the warm-up only logs the policy terms
                logp, ent = policy.logprobs(b, "actor", cfg.temperature, with_entropy=True)
            kl = approx_kl(logp.detach(), roll.logp[idx, :w], mask).item()
            if cfg.target_kl and kl > 1.5 * cfg.target_kl:
                stats["approx_kl"].append(kl)
                stopped = True
                break
            optimizer.zero_grad(set_to_none=True)
            pg, clipfrac = policy_loss(logp, roll.logp[idx, :w], adv[idx, :w], mask, cfg.cliprange)
            ent_mean = masked_mean(ent, mask)
            # actor and critic share no trained weights, so two backward passes give the gradient of
            # pg - ent_coef*H + vf_coef*vf while holding only one graph at a time
            if train_actor:
                (pg - cfg.ent_coef * ent_mean).backward()
            values = policy.values(b)
            vf, vclip = value_loss(values, roll.values[idx, :w], returns[idx, :w], mask, cfg.cliprange_value)
            (cfg.vf_coef * vf).backward()
            norm = torch.nn.utils.clip_grad_norm_(params, cfg.max_grad_norm or float("inf"))
            optimizer.step()
            for key, v in (("loss/policy", pg), ("loss/value", vf), ("entropy", ent_mean),
                           ("clipfrac", clipfrac), ("clipfrac_value", vclip), ("grad_norm", norm)):
                stats[key].append(float(v.detach()) if hasattr(v, "detach") else float(v))
            stats["approx_kl"].append(kl)
        epochs += 1
        if stopped:
            break
    optimizer.zero_grad(set_to_none=True)
    out = {k: float(np.mean(v)) if v else float("nan") for k, v in stats.items()}
    # the mean hides where it grew: the first mini-batch is ~0 by construction (nothing has stepped)
    out["approx_kl_max"] = float(max(stats["approx_kl"])) if stats["approx_kl"] else float("nan")
    out["ppo_epochs_run"] = epochs if not stopped else epochs - 1 + (s / max(n, 1))
    out["early_stop"] = float(stopped)
    return out
