"""Batched generation: left-padded prompts, KV cache, greedy or sampled, stopping at the end of turn.

Prompts are sorted by length before batching so that a batch holds prompts of similar length (little
padding), and answers are returned in the caller's order. Greedy decoding is deterministic; sampling
is seeded once per call so a given seed reproduces a run on the same hardware. A greedy batch of one
prompt under a constraining processor decodes jump-forward (`ctrlrec.llm.jump`): forced tokens cost
no model step.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from tqdm.auto import tqdm

from ctrlrec.errors import CtrlrecError
from ctrlrec.llm.chat import prompt_text, stop_token_ids


def left_pad(seqs: list[list[int]], pad: int):
    """`(ids, attention_mask)` of token lists, left-padded to the longest: every row ends together."""
    import torch

    width = max(len(x) for x in seqs)
    ids = torch.full((len(seqs), width), pad, dtype=torch.long)
    mask = torch.zeros((len(seqs), width), dtype=torch.long)
    for row, x in enumerate(seqs):
        ids[row, width - len(x):] = torch.tensor(x, dtype=torch.long)
        mask[row, width - len(x):] = 1
    return ids, mask


@dataclass
class GenerationConfig:
    max_new_tokens: int = 320  # a top-10 list of movie titles is ~150 tokens; leave room for k up to 15
    do_sample: bool = False  # greedy by default (the paper's evaluation)
    temperature: float = 0.7  # used only when do_sample (the paper's RL sampling temperature)
    top_p: float = 1.0  # nucleus sampling cut-off, used only when do_sample
    batch_size: int = 16  # prompts per forward pass
    seed: int = 0  # seeds sampling
    jump: bool = True  # one constrained greedy prompt per batch: forced tokens skip the model (llm/jump)

    def check(self) -> None:
        if self.max_new_tokens < 1 or self.batch_size < 1:
            raise CtrlrecError("max_new_tokens and batch_size: expected positive integers")
        if self.do_sample and not (self.temperature > 0 and 0 < self.top_p <= 1):
            raise CtrlrecError("sampling: expected temperature > 0 and 0 < top_p <= 1")

    def to_dict(self) -> dict:
        return asdict(self)


def generate(model, tok, prompts: list, cfg: GenerationConfig | None = None, progress: bool = True,
             processors=None) -> list[str]:
    """Answers to `prompts` (each a sample dict, a message list, or an already rendered string).

    processors: optional callable taking the prompt indices of a batch (in its row order) and
    returning a logits processor for that batch, or None (see `ctrlrec.llm.decoding`).
    """
    import torch

    cfg = cfg or GenerationConfig()
    cfg.check()
    texts = [p if isinstance(p, str) else prompt_text(tok, p) for p in prompts]
    encoded = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    order = sorted(range(len(encoded)), key=lambda i: -len(encoded[i]))
    stops = stop_token_ids(tok, model)
    pad = tok.pad_token_id if tok.pad_token_id is not None else stops[0]
    device = next(model.parameters()).device
    out: list[str | None] = [None] * len(texts)
    was_training = model.training
    model.eval()
    if cfg.do_sample:
        torch.manual_seed(cfg.seed)
    sample_kw = (
        dict(do_sample=True, temperature=cfg.temperature, top_p=cfg.top_p)
        if cfg.do_sample
        else dict(do_sample=False, temperature=None, top_p=None, top_k=None)
    )
    bar = tqdm(total=len(texts), desc="generate", unit="prompt", disable=not progress, leave=False)
    try:
        for start in range(0, len(order), cfg.batch_size):
            idx = order[start : start + cfg.batch_size]
            ids, mask = left_pad([encoded[i] for i in idx], pad)  # answers start right after every prompt
            width = ids.shape[1]
            extra = {}
            proc = processors(idx) if processors is not None else None
            if (proc is not None and len(idx) == 1 and not cfg.do_sample and cfg.jump
                    and getattr(proc, "additive", False)):  # llm/jump probes it with zero logits
                from ctrlrec.llm.jump import greedy_jump

                new, _ = greedy_jump(model, encoded[idx[0]], proc, stops, cfg.max_new_tokens)
                out[idx[0]] = tok.decode(new, skip_special_tokens=True).strip()
                bar.update(1)
                continue
            if proc is not None:
                from transformers import LogitsProcessorList

                extra["logits_processor"] = LogitsProcessorList([proc])
            with torch.inference_mode():
                gen = model.generate(
                    input_ids=ids.to(device),
                    attention_mask=mask.to(device),
                    max_new_tokens=cfg.max_new_tokens,
                    eos_token_id=stops,
                    pad_token_id=pad,
                    use_cache=True,
                    **sample_kw,
                    **extra,
                )
            for row, i in enumerate(idx):
                out[i] = tok.decode(gen[row, width:], skip_special_tokens=True).strip()
            bar.update(len(idx))
    finally:
        bar.close()
        if was_training:
            model.train()
    return out  # type: ignore[return-value]
