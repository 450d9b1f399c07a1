"""Generalized Advantage Estimation (Schulman et al. 2016) over right-padded response batches.

Each row is one response; `mask` marks its tokens (a contiguous run from position 0). The episode ends
after the last token, so the value after it is 0:
    delta_t = r_t + gamma * V_{t+1} - V_t,    A_t = delta_t + gamma * lam * A_{t+1},    R_t = A_t + V_t
"""

from __future__ import annotations


def gae(rewards, values, mask, gamma: float = 0.99, lam: float = 0.95):
    """(advantages, returns), both shaped like `rewards` ([batch, T]) and zero where `mask` is 0."""
    import torch

    mask = mask.to(rewards.dtype)
    rewards = rewards * mask
    values = values.detach() * mask
    T = rewards.shape[-1]
    adv = torch.zeros_like(rewards)
    last = torch.zeros_like(rewards[..., 0])
    for t in reversed(range(T)):
        nxt = values[..., t + 1] * mask[..., t + 1] if t + 1 < T else torch.zeros_like(last)
        delta = rewards[..., t] + gamma * nxt - values[..., t]
        cont = mask[..., t + 1] if t + 1 < T else torch.zeros_like(last)
        last = (delta + gamma * lam * last * cont) * mask[..., t]
        adv[..., t] = last
    return adv, (adv + values) * mask
