"""Rollouts: sample responses with the actor, keep the exact sampled token ids, and compute the
rollout policy's log-probs, the reference's log-probs and the critic's values, one batched forward each.

PPO then trains on exactly these ids (reference-notes defect 5: never a re-tokenised rendering of
the parsed list). With a `CatalogDecoder` and one `RowSpec` per prompt, sampling runs through the
catalog-constrained logits processor (each line an exact title of the row's pool, distinct, outside
the history, k lines, then end of turn): rollouts are short and always legal. The allowed-token
mask of every sampled step is kept (`tensors["allowed"]`, [N, R, vocab]) and every log-prob, the
reference's included, is taken under it, so PPO's ratio and KL are those of the distribution the
tokens were actually drawn from. Sampling runs left-padded with a KV cache; the scoring forwards run
on right-padded rows `prompt + response + pad`, where plain 0..L-1 positions are right for every real token.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ctrlrec.llm.chat import prompt_text, stop_token_ids
from ctrlrec.llm.generate import left_pad
from ctrlrec.rl import prefix


@dataclass
class Rollout:
    """One PPO batch. Tensors are [N, L] (sequences) or [N, R] (response positions), right-padded."""

    prompt_index: list[int]  # which prompt of the step each response answers
    response_ids: list[list[int]]  # the sampled ids, through the first stop token when one was sampled
    texts: list[str]  # decoded responses (special tokens skipped), the text that scoring judges
    tensors: dict = field(default_factory=dict)  # input_ids, attention_mask, positions, response, mask
    logp: object = None  # log pi_old(token) under the sampling temperature
    ref_logp: object = None  # log pi_ref(token) under the same temperature
    values: object = None  # critic values V(s_t)

    def __len__(self) -> int:
        return len(self.response_ids)

    def rows(self, idx, trim: bool = False) -> dict:
        """The model inputs of the rows `idx` (a list or tensor of indices). With `trim`, padding
        those rows do not need is cut: response-position tensors to their longest response, the
        full-row layout to their longest sequence, the prompt prefixes to their longest prompt.
        (A batch's lists run from 1 to 10 titles: without the cut every row costs the longest.)"""
        out = {k: v[idx] for k, v in self.tensors.items()}
        if not trim:
            return out
        w = max(int(out["mask"].sum(1).max()), 1)
        for k in ("positions", "response", "mask", "allowed", "suffix_ids", "suffix_mask", "suffix_pos"):
            if k in out:
                out[k] = out[k][:, :w]
        if "attention_mask" in out:
            n = int(out["attention_mask"].sum(1).max())
            out["input_ids"], out["attention_mask"] = out["input_ids"][:, :n], out["attention_mask"][:, :n]
        if "prefix_mask" in out:
            p = max(int(out["prefix_mask"].sum(1).max()), 1)
            out["prefix_ids"], out["prefix_mask"] = out["prefix_ids"][:, -p:], out["prefix_mask"][:, -p:]
        return out


def _cut(ids: list[int], stops: set[int], pad: int) -> list[int]:
    """The response through its first stop token; trailing padding dropped if no stop was sampled."""
    for j, t in enumerate(ids):
        if t in stops:
            return ids[: j + 1]
    return ids


class _MaskRecorder:
    """A logits processor that keeps which tokens the processors before it left finite."""

    def __init__(self):
        self.steps: list = []

    def __call__(self, input_ids, scores):
        import torch

        self.steps.append(torch.isfinite(scores))  # on the model's device: no copy per token
        return scores


def sample(policy, tok, prompts: list, n_per_prompt: int, max_new_tokens: int, temperature: float,
           top_p: float = 1.0, batch_size: int = 16, seed: int = 0, decoder=None,
           specs: list | None = None):
    """(prompt ids, response ids) for each prompt repeated `n_per_prompt` times, in that order; with
    `decoder` and `specs` (one RowSpec per prompt) also the allowed-token masks of each response
    ([len(response), vocab] bool), else None."""
    import torch

    stops = stop_token_ids(tok, policy.peft)
    pad = tok.pad_token_id if tok.pad_token_id is not None else stops[0]
    texts = [p if isinstance(p, str) else prompt_text(tok, p) for p in prompts]
    encoded = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    flat = [i for i in range(len(prompts)) for _ in range(n_per_prompt)]
    order = sorted(range(len(flat)), key=lambda j: -len(encoded[flat[j]]))
    out: list[list[int] | None] = [None] * len(flat)
    allowed: list | None = [None] * len(flat) if decoder is not None else None
    torch.manual_seed(seed)
    policy.train(False)
    for s in range(0, len(order), batch_size):
        rows = order[s: s + batch_size]
        ids, mask = left_pad([encoded[flat[j]] for j in rows], pad)
        width = ids.shape[1]
        extra = {}
        if decoder is not None:
            from transformers import LogitsProcessorList

            recorder = _MaskRecorder()
            extra["logits_processor"] = LogitsProcessorList(
                [decoder.processor([specs[flat[j]] for j in rows]), recorder])
            max_new = max(max_new_tokens, decoder.max_new_tokens(max(specs[flat[j]].k for j in rows)))
        else:
            max_new = max_new_tokens
        with torch.inference_mode():
            policy.use("actor")
            cache = prefix.generation_cache(policy.decoder, [encoded[flat[j]] for j in rows], pad,
                                            policy.device)
            if cache is not None:  # each distinct prompt prefilled once, not once per response
                extra["cache"] = cache
            # top_k=0: no truncation, so the tokens come from exactly the tempered softmax that
            # PPO's ratio assumes
            gen = policy.generate(input_ids=ids.to(policy.device), attention_mask=mask.to(policy.device),
                                  max_new_tokens=max_new, do_sample=True, temperature=temperature,
                                  top_p=top_p, top_k=0, eos_token_id=stops, pad_token_id=pad, use_cache=True,
                                  **extra)
        for r, j in enumerate(rows):
            out[j] = _cut(gen[r, width:].tolist(), set(stops), pad)
        if allowed is not None:
            steps = torch.stack(recorder.steps, dim=1)  # [rows, steps, vocab]
            for r, j in enumerate(rows):
                allowed[j] = steps[r, : len(out[j])]  # type: ignore[arg-type]
    return [encoded[i] for i in flat], out, allowed  # type: ignore[return-value]


def pack(prompt_ids: list[list[int]], response_ids: list[list[int]], pad: int, device,
         allowed: list | None = None) -> dict:
    """Right-padded model inputs plus, per response token j, the position whose output predicts it
    (and with `allowed`, the [N, R, vocab] mask of the tokens each position could be sampled from;
    padded positions allow everything)."""
    import torch

    n = len(prompt_ids)
    L = max(len(p) + max(len(r), 1) for p, r in zip(prompt_ids, response_ids, strict=True))
    R = max(max((len(r) for r in response_ids), default=1), 1)
    input_ids = torch.full((n, L), pad, dtype=torch.long)
    attn = torch.zeros((n, L), dtype=torch.long)
    positions = torch.zeros((n, R), dtype=torch.long)
    response = torch.full((n, R), pad, dtype=torch.long)
    mask = torch.zeros((n, R), dtype=torch.float32)
    for i, (p, r) in enumerate(zip(prompt_ids, response_ids, strict=True)):
        seq = p + r
        input_ids[i, : len(seq)] = torch.tensor(seq)
        attn[i, : len(seq)] = 1
        # logits at position t predict token t+1; padded slots point at the last real position
        positions[i] = torch.clamp(torch.arange(R) + len(p) - 1, max=max(len(seq) - 2, 0))
        if r:
            response[i, : len(r)] = torch.tensor(r)
            mask[i, : len(r)] = 1.0
    out = dict(input_ids=input_ids, attention_mask=attn, positions=positions, response=response, mask=mask)
    if allowed is not None:
        vocab = allowed[0].shape[-1]
        full = torch.ones((n, R, vocab), dtype=torch.bool, device=allowed[0].device)
        for i, a in enumerate(allowed):
            full[i, : a.shape[0]] = a
        out["allowed"] = full
    out.update(prefix.tensors(prompt_ids, response_ids, pad) or {})  # the prompt-once layout
    return {k: v.to(device) for k, v in out.items()}


def evaluate_rollout(policy, roll: Rollout, temperature: float, batch_size: int) -> None:
    """Fill `roll.logp`, `roll.ref_logp` and `roll.values` (no gradients)."""
    import torch
    import torch.nn.functional as F

    policy.train(False)
    mask = roll.tensors["mask"]
    R = mask.shape[1]
    logp, ref, val = [], [], []
    with torch.no_grad():
        for s in range(0, len(roll), batch_size):
            b = roll.rows(slice(s, s + batch_size), trim=True)
            pad = (0, R - b["mask"].shape[1])  # back to the batch's width
            logp.append(F.pad(policy.logprobs(b, "actor", temperature), pad))
            ref.append(F.pad(policy.logprobs(b, None, temperature), pad))
            val.append(F.pad(policy.values(b), pad))
    roll.logp = torch.cat(logp) * mask
    roll.ref_logp = torch.cat(ref) * mask
    roll.values = torch.cat(val) * mask


def row_spec(prompt: dict):
    """The catalog-decoding RowSpec of an RL prompt: k titles from its candidates (the whole catalog
    when it lists none), outside its history. Item ids are the catalog's indexes (prepared datasets)."""
    from ctrlrec.llm.decoding import RowSpec

    history = tuple(dict.fromkeys(int(h) for h in prompt.get("history") or []))
    return RowSpec(int(prompt["k"]), "catalog", history,
                   pool=tuple(int(c) for c in prompt.get("candidates") or ()))


def collect(policy, tok, prompts: list, cfg, seed: int, decoder=None) -> Rollout:
    """Sample `cfg.responses_per_prompt` responses per prompt and evaluate them (one PPO batch);
    with a `decoder`, sampling is constrained to each prompt's candidates (`row_spec`)."""
    specs = [row_spec(p) for p in prompts] if decoder is not None else None
    p_ids, r_ids, allowed = sample(policy, tok, prompts, cfg.responses_per_prompt, cfg.max_new_tokens,
                                   cfg.temperature, cfg.top_p, cfg.rollout_batch_size, seed, decoder, specs)
    pad = tok.pad_token_id if tok.pad_token_id is not None else stop_token_ids(tok)[0]
    roll = Rollout(
        prompt_index=[i for i in range(len(prompts)) for _ in range(cfg.responses_per_prompt)],
        response_ids=r_ids,
        texts=[tok.decode(r, skip_special_tokens=True) for r in r_ids],
        tensors=pack(p_ids, r_ids, pad, policy.device, allowed),
    )
    evaluate_rollout(policy, roll, cfg.temperature, cfg.rollout_batch_size)
    return roll
