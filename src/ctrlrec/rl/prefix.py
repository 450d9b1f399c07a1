"""Prompt-prefix forwards: each distinct prompt runs once; the responses run on its KV cache.

A PPO batch holds every prompt twice or more (responses_per_prompt) and the prompts are far longer
than the responses (grounded ml-100k: ~600 prompt tokens, ~55 response tokens). The hidden states at
the response positions need the prompt's keys and values in every layer, not its gradient. So:

1. the distinct prompts, all but their last token, run once (left-padded), giving a KV cache;
2. the cache is repeated for each response row; 3. each row's last prompt token and its response
   (but its last token) run on that cache.

The outputs are the same hidden states as one forward over `prompt + response` per row (to float
rounding: |delta log p| ~2e-5 in fp32 on the bundled model), so log-probs, ratios and KL are exact.
With `prompt_grad` the gradient is exact too: it flows back through the repeated cache into the one
prompt forward, summed over that prompt's responses. Without it the prompt runs under no_grad: the
gradient keeps each response token's own path through every adapted layer and leaves out the path
through the prompt's keys and values (on the bundled model, cosine ~0.67 to the exact gradient) for
a backward ~5x cheaper than one over full sequences (docs/results.md, "RL").
"""

from __future__ import annotations

from ctrlrec.llm.generate import left_pad
from ctrlrec.llm.jump import cache_kw

# the batch keys `tensors` adds (a batch without them takes one forward per row)
KEYS = ("prefix_ids", "prefix_mask", "prompt_row", "suffix_ids", "suffix_mask", "suffix_pos")


def _groups(prompts: list[list[int]]) -> tuple[list[tuple], list[int]]:
    """(the distinct prompts in first-seen order, each row's index among them)."""
    groups: dict[tuple, int] = {}
    inverse = [groups.setdefault(tuple(p), len(groups)) for p in prompts]
    return list(groups), inverse


def tensors(prompt_ids: list[list[int]], response_ids: list[list[int]], pad: int) -> dict | None:
    """The prefix/suffix layout of a batch, or None when a prompt is too short to split.

    prefix_ids/prefix_mask [N, P]: each prompt but its last token, left-padded; prompt_row [N]: rows
    with the same prompt share a number; suffix_ids/suffix_mask/suffix_pos [N, R]: the last prompt
    token then the response but its last token, right-padded, at their positions in the full sequence.
    """
    import torch

    if any(len(p) < 2 for p in prompt_ids):
        return None
    n = len(prompt_ids)
    R = max(max((len(r) for r in response_ids), default=1), 1)
    prefix, pmask = left_pad([p[:-1] for p in prompt_ids], pad)
    suffix = torch.full((n, R), pad, dtype=torch.long)
    smask = torch.zeros((n, R), dtype=torch.long)
    spos = torch.zeros((n, R), dtype=torch.long)
    row = torch.tensor(_groups(prompt_ids)[1], dtype=torch.long)
    for i, (p, r) in enumerate(zip(prompt_ids, response_ids, strict=True)):
        seq = [p[-1]] + r[:-1]
        suffix[i, : len(seq)] = torch.tensor(seq)
        smask[i, : len(seq)] = 1
        spos[i] = len(p) - 1 + torch.arange(R)
    return dict(prefix_ids=prefix, prefix_mask=pmask, prompt_row=row, suffix_ids=suffix,
                suffix_mask=smask, suffix_pos=spos)


def _expanded_cache(decoder, ids, mask, inverse):
    """Run the distinct left-padded prefixes `ids` [U, P] and return their KV cache with row i
    holding prefix inverse[i] (a fresh cache: the caller's forward appends to it)."""
    from transformers import DynamicCache

    pos = (mask.cumsum(1) - 1).clamp(min=0)
    out = decoder(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=True)
    past = out.cache if getattr(out, "cache", None) is not None else out.past_key_values
    return DynamicCache(ddp_cache_data=[(layer.keys[inverse], layer.values[inverse])
                                        for layer in past.layers])


def hidden(decoder, batch: dict, prompt_grad: bool = True):
    """Last hidden states [B, R, H] at the response positions via the prompt's cache (see above).

    The adapter the caller has active (or disabled) applies to both forwards."""
    import contextlib

    import torch

    rows = batch["prompt_row"]
    distinct, inverse = torch.unique(rows, return_inverse=True)
    first = torch.stack([torch.nonzero(rows == d)[0, 0] for d in distinct])
    mask = batch["prefix_mask"][first]
    with contextlib.nullcontext() if prompt_grad else torch.no_grad():
        cache = _expanded_cache(decoder, batch["prefix_ids"][first], mask, inverse)
    attn = torch.cat([mask[inverse], batch["suffix_mask"]], dim=1)
    res = decoder(input_ids=batch["suffix_ids"], attention_mask=attn, position_ids=batch["suffix_pos"],
                  use_cache=True, **{cache_kw(decoder): cache})
    return res.last_hidden_state


def generation_cache(decoder, prompts: list[list[int]], pad: int, device):
    """The KV cache for `generate(input_ids=left_pad(prompts), cache=...)`: every prompt but its last
    token, left-padded to the batch's width less one, each distinct prompt run once; generate then
    runs only the last prompt column. None when a prompt is too short to split."""
    import torch

    if any(len(p) < 2 for p in prompts):
        return None
    distinct, inverse = _groups(prompts)
    # left-padded to the longest prompt less one, as the first columns of left_pad(prompts) are
    ids, mask = left_pad([list(p[:-1]) for p in distinct], pad)
    return _expanded_cache(decoder, ids.to(device), mask.to(device), torch.tensor(inverse, device=device))
