"""Round-2 answers without generation: log P(Yes) - log P(No) from the next-token logits.

The conversation ends with the round-2 question; the template's generation prompt follows, and the
logits of the first token of "Yes" and of "No" at that position decide. Batched, left-padded.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from ctrlrec.errors import CtrlrecError
from ctrlrec.llm.chat import render


def answer_ids(tok) -> tuple[int, int]:
    """The first token ids of "Yes" and "No" (they must differ)."""
    yes = tok("Yes", add_special_tokens=False)["input_ids"]
    no = tok("No", add_special_tokens=False)["input_ids"]
    if not yes or not no or yes[0] == no[0]:
        raise CtrlrecError("the tokenizer gives 'Yes' and 'No' the same first token; expected a "
                           "tokenizer that tells them apart")
    return yes[0], no[0]


def log_odds(model, tok, conversations: list[list[dict]], batch_size: int = 16,
             progress: bool = False) -> np.ndarray:
    """log P(Yes) - log P(No) of the next answer of each conversation."""
    import torch

    yes, no = answer_ids(tok)
    texts = [render(tok, c, add_generation_prompt=True) for c in conversations]
    enc = [tok(t, add_special_tokens=False)["input_ids"] for t in texts]
    pad = tok.pad_token_id if tok.pad_token_id is not None else tok.eos_token_id
    device = next(model.parameters()).device
    out = np.zeros(len(enc))
    order = sorted(range(len(enc)), key=lambda i: -len(enc[i]))
    was = model.training
    model.eval()
    bar = tqdm(total=len(enc), desc="judge", unit="question", disable=not progress, leave=False)
    try:
        for s in range(0, len(order), batch_size):
            idx = order[s:s + batch_size]
            width = max(len(enc[i]) for i in idx)
            ids = torch.full((len(idx), width), pad, dtype=torch.long)
            mask = torch.zeros((len(idx), width), dtype=torch.long)
            for r, i in enumerate(idx):
                ids[r, width - len(enc[i]):] = torch.tensor(enc[i])
                mask[r, width - len(enc[i]):] = 1
            pos = (mask.cumsum(1) - 1).clamp(min=0)
            with torch.inference_mode():
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device),
                               position_ids=pos.to(device)).logits[:, -1].float()
            lp = torch.log_softmax(logits, -1)
            out[idx] = (lp[:, yes] - lp[:, no]).cpu().numpy()
            bar.update(len(idx))
    finally:
        bar.close()
        model.train(was)
    return out


def accuracy(scores: np.ndarray, labels: list[bool]) -> float:
    """Share of questions answered right (Yes when the log-odds are positive)."""
    if len(labels) == 0:
        return float("nan")
    return float(np.mean((np.asarray(scores) > 0) == np.asarray(labels, dtype=bool)))
