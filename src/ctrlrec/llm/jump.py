"""Jump-forward greedy decoding of one constrained prompt: tokens the constraint forces cost no step.

Under catalog or guaranteed decoding most answer tokens are forced: once a title's first tokens
single out one title of the pool, the rest of it is the only allowed continuation, and so is every
list marker ("\\n2."). Stepwise decoding still runs one forward per token; here a token that is the
only one the processor allows is appended without the model, and the model runs once over all the
tokens appended since its last call when a real choice comes (one forward of a few tokens costs
about what one token costs on a CPU). The answer is the same as stepwise greedy decoding with the
same processor, to float rounding (tests/llm/test_jump.py).

The processor (ctrlrec.llm.decoding.ConstrainedLogits) is asked with zero logits: what it returns
is -inf on every forbidden token and its additive bias (teacher guidance) on the allowed ones, so
`logits + probe` is exactly its answer for the real logits, and it advances over each token once.
"""

from __future__ import annotations

import inspect


def cache_kw(model) -> str:
    """The name a model's forward (or a PEFT wrapper's base model's) takes its KV cache by: `cache`
    in transformers >= 5.2x, else `past_key_values`."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return "cache" if "cache" in inspect.signature(base.forward).parameters else "past_key_values"


def _cache(out):
    return out.cache if getattr(out, "cache", None) is not None else out.past_key_values


def greedy_jump(model, prompt: list[int], processor, stops: list[int],
                max_new_tokens: int) -> tuple[list[int], int]:
    """(the new tokens, the number of model forwards after the prompt's) for one prompt."""
    import torch

    device = next(model.parameters()).device
    kw = cache_kw(model)
    seq = torch.tensor([prompt], dtype=torch.long, device=device)
    with torch.inference_mode():
        out = model(input_ids=seq, use_cache=True, logits_to_keep=1)
        cache, logits = _cache(out), out.logits[:, -1].float()
        vocab = logits.shape[-1]
        zeros = torch.zeros((1, vocab), dtype=torch.float32, device=device)
        new: list[int] = []
        pending: list[int] = []  # appended tokens the model has not run yet
        calls = 0
        stop = set(int(s) for s in stops)
        while len(new) < max_new_tokens:
            probe = processor(seq, zeros)
            allowed = torch.isfinite(probe[0])
            if int(allowed.sum()) == 1:
                token = int(allowed.nonzero()[0, 0])
            else:
                if pending:
                    chunk = torch.tensor([pending], dtype=torch.long, device=device)
                    out = model(input_ids=chunk, use_cache=True, logits_to_keep=1, **{kw: cache})
                    cache, logits = _cache(out), out.logits[:, -1].float()
                    pending, calls = [], calls + 1
                token = int((logits + probe).argmax(-1)[0])
            new.append(token)
            pending.append(token)
            seq = torch.cat([seq, torch.tensor([[token]], device=device)], 1)
            if token in stop:
                break
    return new, calls
