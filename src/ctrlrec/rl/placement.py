"""Rewards on tokens (paper §2.3.3, spec §5): which sampled token carries which reward.

Scoring reports each parsed title as a (start, end) character span in the response text. A title's
reward goes on the token that completes it: the first token t whose decoded prefix `decode(ids[:t+1])`
already contains the character `end - 1`. Prefix ends are found by decoding growing prefixes and
comparing them with the full decoding, which works for any tokenizer (byte-level BPE, WordPiece,
SentencePiece, characters) and any chat template, because only the response's own sampled ids are
decoded: no newline ids, no template offsets (reference-notes defect 4), and no re-tokenisation of the
text (defect 5). A token that ends inside a multi-byte character decodes to a replacement character
that the full text does not have, so that character is credited to the token that completes it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def _common_prefix(a: str, b: str) -> int:
    n = min(len(a), len(b))
    if a[:n] == b[:n]:
        return n
    lo, hi = 0, n  # binary search for the first differing character
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if a[:mid] == b[:mid]:
            lo = mid
        else:
            hi = mid - 1
    return lo


def prefix_ends(tok, ids: Sequence[int], text: str | None = None) -> np.ndarray:
    """ends[t] = how many characters of the response text are settled once tokens 0..t are decoded.

    `text` is the decoding of all of `ids` (computed when not given; it must be decoded the same way,
    i.e. `tok.decode(ids, skip_special_tokens=True)`). The array is non-decreasing and ends at len(text).
    """
    ids = list(ids)
    if text is None:
        text = tok.decode(ids, skip_special_tokens=True)
    ends = np.zeros(len(ids), dtype=np.int64)
    best = 0
    for t in range(len(ids)):
        prefix = tok.decode(ids[: t + 1], skip_special_tokens=True)
        best = max(best, _common_prefix(prefix, text))
        ends[t] = best
    if len(ids):
        ends[-1] = len(text)
    return ends


def char_to_token(ends: np.ndarray, char_end: int) -> int:
    """The token that completes the text up to `char_end` (exclusive): first t with ends[t] >= char_end."""
    if len(ends) == 0:
        raise ValueError("an empty response has no tokens")
    t = int(np.searchsorted(ends, max(char_end, 1), side="left"))
    return min(t, len(ends) - 1)


def title_end_tokens(tok, ids: Sequence[int], spans: Sequence[tuple[int, int]],
                     text: str | None = None) -> list[int]:
    """For each title span (start, end) in the decoded response, the index of its last token."""
    if not spans:
        return []
    ends = prefix_ends(tok, ids, text)
    return [char_to_token(ends, end) for _, end in spans]


def token_rewards(n_tokens: int, item_tokens: Sequence[int], item_rewards: Sequence[float],
                  list_reward: float, list_scale: float, logp=None, ref_logp=None, kl_coef: float = 0.0,
                  item_reward: bool = True, list_credit: str = "last"):
    """The per-token reward of one response (a float tensor of length `n_tokens`).

    r[t] = -kl_coef * (logp[t] - ref_logp[t])                  on every response token
         + sum of R_item of the titles that end at token t     (when `item_reward`)
         + list_scale * R_list                                  on the last token (`list_credit`
           "last"), or split evenly over the titles' last tokens ("titles"; the last token when
           the response has no title)
    """
    import torch

    r = torch.zeros(n_tokens, dtype=torch.float32)
    if n_tokens == 0:
        return r
    if logp is not None and kl_coef:
        r -= kl_coef * (logp[:n_tokens].float() - ref_logp[:n_tokens].float())
    if item_reward and len(item_tokens):
        idx = torch.as_tensor(list(item_tokens), dtype=torch.long)
        r.index_add_(0, idx, torch.as_tensor(np.asarray(item_rewards, dtype=np.float32)))
    total = list_scale * float(list_reward)
    if list_credit == "titles" and len(item_tokens):
        idx = torch.as_tensor(list(item_tokens), dtype=torch.long)
        r.index_add_(0, idx, torch.full((len(idx),), total / len(idx)))
    else:
        r[n_tokens - 1] += total
    return r
