"""Round-2 answers without generation: log P(Yes) - log P(No) from the next-token logits.

The conversation ends with the round-2 question; the template's generation prompt follows, and the
logits of the first token of "Yes" and of "No" at that position decide. Batched, left-padded.

Questions that follow the same conversation (a profile asked about its held-out item and about its
negative, the best-of-n ranking asks two per sample) share their prefix: it runs once, its KV cache
is copied to each question, and only the questions' own tokens run again (`shared=True`; 1.53x
faster on ml-100k profiles with two questions each, `bench/judge.py`). A conversation whose prefix
does not tokenise as the start of the whole, or that has no other question, takes the plain path.
Both give the same numbers.
"""

from __future__ import annotations

import json

import numpy as np
from tqdm.auto import tqdm

from ctrlrec.errors import CtrlrecError
from ctrlrec.llm.chat import render
from ctrlrec.llm.generate import left_pad
from ctrlrec.llm.jump import cache_kw as _cache_kw
from ctrlrec.profiles.cache import key as cache_key


def answer_ids(tok) -> tuple[int, int]:
    """The first token ids of "Yes" and "No" (they must differ)."""
    yes = tok("Yes", add_special_tokens=False)["input_ids"]
    no = tok("No", add_special_tokens=False)["input_ids"]
    if not yes or not no or yes[0] == no[0]:
        raise CtrlrecError("the tokenizer gives 'Yes' and 'No' the same first token; expected a "
                           "tokenizer that tells them apart")
    return yes[0], no[0]


def _left_pad(seqs: list[list[int]], pad: int):
    """`ctrlrec.llm.generate.left_pad` plus the positions (0 at each row's first real token)."""
    ids, mask = left_pad(seqs, pad)
    return ids, mask, (mask.cumsum(1) - 1).clamp(min=0)


def _groups(tok, conversations, enc) -> tuple[list[tuple[list[int], list[tuple[int, list[int]]]]], list[int]]:
    """(prefix ids, [(conversation index, its own tokens)]) for prefixes asked two or more questions,
    and the indices left to the plain path."""
    by_prefix: dict[tuple[int, ...], list[tuple[int, list[int]]]] = {}
    plain = []
    seen: dict[str, list[int]] = {}  # the questions of one prefix render and tokenise it once
    for i, conv in enumerate(conversations):
        head = json.dumps(conv[:-1], sort_keys=True)
        if head not in seen:
            seen[head] = (tok(render(tok, conv[:-1]), add_special_tokens=False)["input_ids"]
                          if len(conv) > 1 else [])
        pre = seen[head]
        if pre and len(pre) < len(enc[i]) and enc[i][:len(pre)] == pre:
            by_prefix.setdefault(tuple(pre), []).append((i, enc[i][len(pre):]))
        else:
            plain.append(i)
    groups = []
    for pre, qs in by_prefix.items():
        if len(qs) > 1:
            groups.append((list(pre), qs))
        else:
            plain.append(qs[0][0])
    return groups, sorted(plain)


def log_odds(model, tok, conversations: list[list[dict]], batch_size: int = 16,
             progress: bool = False, shared: bool = True, cache=None, fingerprint: str = "") -> np.ndarray:
    """log P(Yes) - log P(No) of the next answer of each conversation.

    With a `GenerationCache` (and the model's `fingerprint`), answers already judged are read from
    it and new ones appended every 8 batches, so a restarted run does not judge them again."""
    out = np.zeros(len(conversations))
    keys = [cache_key(fingerprint, "judge\n" + json.dumps(c, ensure_ascii=False, sort_keys=True))
            for c in conversations] if cache is not None else None
    todo = []
    for i in range(len(conversations)):
        if keys is not None and keys[i] in cache:
            out[i] = float(cache[keys[i]])
        else:
            todo.append(i)
    step = len(todo) if cache is None else batch_size * 8
    bar = tqdm(total=len(todo), desc="judge", unit="question", disable=not progress, leave=False)
    try:
        for s in range(0, len(todo), max(step, 1)):
            idx = todo[s:s + step]
            got = _judge(model, tok, [conversations[i] for i in idx], batch_size, shared, bar)
            out[idx] = got
            if cache is not None:
                cache.add([(keys[i], repr(float(x))) for i, x in zip(idx, got, strict=True)])
    finally:
        bar.close()
    return out


def _judge(model, tok, conversations, batch_size: int, shared: bool, bar) -> np.ndarray:
    import torch

    yes, no = answer_ids(tok)
    texts = [render(tok, c, add_generation_prompt=True) for c in conversations]
    enc = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    device = next(model.parameters()).device
    out = np.zeros(len(enc))
    groups, plain = _groups(tok, conversations, enc) if shared else ([], list(range(len(enc))))
    was = model.training
    model.eval()

    def record(idx, logits) -> None:
        lp = torch.log_softmax(logits.float(), -1)
        out[idx] = (lp[:, yes] - lp[:, no]).cpu().numpy()
        bar.update(len(idx))

    try:
        with torch.inference_mode():
            order = sorted(plain, key=lambda i: -len(enc[i]))
            for s in range(0, len(order), batch_size):
                idx = order[s:s + batch_size]
                ids, mask, pos = _left_pad([enc[i] for i in idx], pad)
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device),
                               position_ids=pos.to(device), logits_to_keep=1).logits[:, -1]
                record(idx, logits)
            groups.sort(key=lambda g: -len(g[0]))
            kw = _cache_kw(model) if groups else ""
            for s in range(0, len(groups), batch_size):
                _shared_batch(model, groups[s:s + batch_size], pad, device, record, kw)
    finally:
        model.train(was)
    return out


def _shared_batch(model, groups, pad: int, device, record, cache_kw: str) -> None:
    """One batch of prefixes, then all their questions on copies of the prefixes' KV cache."""
    import torch

    ids, mask, pos = _left_pad([g[0] for g in groups], pad)
    first = model(input_ids=ids.to(device), attention_mask=mask.to(device), position_ids=pos.to(device),
                  use_cache=True, logits_to_keep=1)
    cache = getattr(first, "cache", None)
    cache = first.past_key_values if cache is None else cache
    rows = [(g, i, own) for g, (_, qs) in enumerate(groups) for i, own in qs]
    owner = torch.tensor([g for g, _, _ in rows], dtype=torch.long)
    cache.reorder_cache(owner.to(device))
    width = max(len(own) for _, _, own in rows)
    q = torch.full((len(rows), width), pad, dtype=torch.long)  # right-padded: pads come after, unseen
    qmask = torch.zeros((len(rows), width), dtype=torch.long)
    start = mask.sum(1)[owner]
    for r, (_, _, own) in enumerate(rows):
        q[r, :len(own)] = torch.tensor(own)
        qmask[r, :len(own)] = 1
    qpos = start[:, None] + torch.arange(width)[None, :]
    full_mask = torch.cat([mask[owner], qmask], 1)
    logits = model(input_ids=q.to(device), attention_mask=full_mask.to(device), position_ids=qpos.to(device),
                   use_cache=True, **{cache_kw: cache}).logits
    last = torch.tensor([len(own) - 1 for _, _, own in rows], device=logits.device)
    record([i for _, i, _ in rows], logits[torch.arange(len(rows), device=logits.device), last])


def accuracy(scores: np.ndarray, labels: list[bool]) -> float:
    """Share of questions answered right (Yes when the log-odds are positive)."""
    if len(labels) == 0:
        return float("nan")
    return float(np.mean((np.asarray(scores) > 0) == np.asarray(labels, dtype=bool)))
