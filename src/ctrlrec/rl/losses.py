"""PPO's pieces as plain functions over masked [batch, T] tensors: means, whitening, the clipped
policy loss, the clipped value loss, entropy and the approximate KL used for early stopping."""

from __future__ import annotations


def masked_mean(x, mask):
    """Mean of `x` over the positions where `mask` is 1 (0 when the mask is empty)."""
    mask = mask.to(x.dtype)
    return (x * mask).sum() / mask.sum().clamp(min=1.0)


def masked_var(x, mask):
    """Unbiased variance of `x` over the masked positions (0 with fewer than two of them)."""
    mask = mask.to(x.dtype)
    n = mask.sum()
    if n < 2:
        return x.new_zeros(())
    mean = masked_mean(x, mask)
    return (((x - mean) ** 2) * mask).sum() / (n - 1)


def whiten(x, mask, shift_mean: bool = True, eps: float = 1e-8):
    """(x - mean) / std over the masked positions; with shift_mean=False the mean is added back (unit
    spread, same mean: TRL's convention for rewards). Masked-out positions come back as 0."""
    import torch

    mean = masked_mean(x, mask)
    out = (x - mean) * torch.rsqrt(masked_var(x, mask) + eps)
    if not shift_mean:
        out = out + mean
    return out * mask.to(x.dtype)


def policy_loss(logp, old_logp, advantages, mask, cliprange: float = 0.2):
    """Clipped surrogate: mean over tokens of max(-A*ratio, -A*clip(ratio, 1-eps, 1+eps)).

    Returns (loss, clip_fraction): clip_fraction is the share of tokens where the clipped term won.
    """
    import torch

    ratio = torch.exp(logp - old_logp)
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1.0 - cliprange, 1.0 + cliprange)
    loss = masked_mean(torch.maximum(unclipped, clipped), mask)
    frac = masked_mean((clipped > unclipped).to(logp.dtype), mask)
    return loss, frac.detach()


def value_loss(values, old_values, returns, mask, cliprange_value: float = 0.2):
    """Clipped value loss: 0.5 * mean over tokens of max((V - R)^2, (V_clipped - R)^2), with V clipped
    to old_values +- cliprange_value. Returns (loss, clip_fraction)."""
    import torch

    v_clipped = old_values + torch.clamp(values - old_values, -cliprange_value, cliprange_value)
    a = (values - returns) ** 2
    b = (v_clipped - returns) ** 2
    loss = 0.5 * masked_mean(torch.maximum(a, b), mask)
    frac = masked_mean((b > a).to(values.dtype), mask)
    return loss, frac.detach()


def entropy(logits):
    """Entropy of the categorical distribution at each position of `logits` ([..., vocab] -> [...])."""
    import torch

    logp = torch.log_softmax(logits, dim=-1)
    p = logp.exp()
    # masked (-inf) tokens add 0; zeroing log p before the product keeps their gradient finite
    return -(p * torch.where(p > 0, logp, torch.zeros_like(logp))).sum(-1)


def approx_kl(logp, old_logp, mask):
    """Mean over tokens of the k3 estimator of KL(old || new): (ratio - 1) - log ratio (always >= 0)."""
    import torch

    log_ratio = logp - old_logp
    return masked_mean(torch.exp(log_ratio) - 1.0 - log_ratio, mask)
