"""Teacher guidance for catalog decoding: title weights and the per-token log-mass bias.

A guided row has teacher scores (logits) of some catalog items. Their softmax gives each sorted
title a weight w (a title of several scored items takes the largest; a title of no scored item takes
UNSCORED x the smallest positive weight). While a title is being written at trie node n, each
allowed option gets guidance * log(mass(option) / mass(n)) added to its logit, where an option is a
child (mass: the summed weights of the row's allowed titles in its range, a float prefix-sum
difference) or ending the title at n (mass: w of the title that ends there, when allowed), and
mass(n) is the sum over the options. Summed over a title's tokens the bias telescopes to
guidance * log P_teacher(title | the row's allowed titles).
"""

from __future__ import annotations

import numpy as np

UNSCORED = 1e-6  # weight of a title the teacher did not score, relative to its smallest weight
BIAS_MIN = -1e4  # biases are clipped here: finite, so an allowed token stays allowed


def title_weights(n_titles: int, positions: np.ndarray, scores) -> np.ndarray:
    """w over the sorted titles from the scores of the items at sorted-title `positions` (-1: the
    item has no title; its score still counts in the softmax)."""
    s = np.asarray(scores, dtype=np.float64)
    w = np.exp(s - s.max())
    w /= w.sum()
    out = np.full(n_titles, UNSCORED * w[w > 0].min())
    keep = positions >= 0
    np.maximum.at(out, positions[keep], w[keep])
    return out


def prefix(allowed, weight):
    """(allowed weights, their prefix sums with a leading 0) of each row: [B, N], [B, N+1]."""
    import torch

    wa = torch.where(allowed, weight, 0.0)
    zero = torch.zeros((wa.shape[0], 1), dtype=wa.dtype, device=wa.device)
    return wa, torch.cat([zero, wa.cumsum(1)], 1)


def bias(guide, weight, wa, cumw, lo, hi, ok, ctok, term, term_ok, term_tok, vocab: int):
    """[B, vocab] bias of one step. guide: [B] guidance (0 where no bias is due); weight, wa, cumw:
    the rows' title weights, allowed weights and prefix sums; lo, hi, ok, ctok: [B, W] title ranges,
    allowed flags and tokens of the current node's children (column `vocab` where not allowed);
    term, term_ok, term_tok: [B] the title ending at the node, whether it is allowed, its end token."""
    import torch

    # an allowed child holds an allowed title, so its mass is at least the row's smallest weight:
    # the floor only hides the rounding of a prefix-sum difference, and keeps every log finite
    floor = weight.min(1, keepdim=True).values
    m_child = torch.where(ok, (cumw.gather(1, hi) - cumw.gather(1, lo)).clamp(min=floor), 0.0)
    m_term = torch.where(term_ok, wa.gather(1, term.clamp(min=0)[:, None]).squeeze(1), 0.0)
    log_node = (m_child.sum(1) + m_term).clamp(min=floor[:, 0]).log()
    b_child = guide[:, None] * (m_child.clamp(min=floor).log() - log_node[:, None])
    b_term = guide * (m_term.clamp(min=floor[:, 0]).log() - log_node)
    out = torch.zeros((len(guide), vocab + 1), dtype=b_child.dtype, device=b_child.device)
    out.scatter_(1, ctok, b_child)  # padded and disallowed children all land on column `vocab`
    out.scatter_(1, torch.where(term_ok, term_tok, vocab)[:, None], b_term[:, None])
    return out[:, :vocab].clamp(min=BIAS_MIN)
