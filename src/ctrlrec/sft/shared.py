"""SFT batching "shared": the samples of a group share a long prompt prefix, which runs once.

A grounded sample is ~85% prompt (the candidate pool, ~540 tokens) and ~15% instruction and answer.
Tasks built with `group > 1` (ctrlrec.tasks.config) give several samples one pool with different
instructions and answers. Here a batch is `batch_size` such groups; the longest token prefix the
samples of a group share runs once, its KV cache is repeated for each sample, and each sample's rest
(instruction, answer) runs on it (the route of ctrlrec.rl.prefix). The loss is the same token-level
cross-entropy over the answer tokens as one forward per sample (tests/sft/test_shared.py); with
`prompt_grad` the gradient is exact too, else the shared prefix runs without a graph.

Samples without a group (I3, I4, or tasks built with group 1) are groups of one.
"""

from __future__ import annotations

from ctrlrec.llm.chat import IGNORE
from ctrlrec.rl import prefix


class GroupedSamples:
    """A map-style dataset whose items are groups: lists of {input_ids, labels} rows."""

    def __init__(self, rows: list[dict], groups: list[object]):
        by: dict[object, list[dict]] = {}
        for j, (row, g) in enumerate(zip(rows, groups, strict=True)):
            by.setdefault(("g", g) if g is not None else ("row", j), []).append(row)
        self.groups = list(by.values())

    def __len__(self) -> int:
        return len(self.groups)

    def __getitem__(self, i: int) -> dict:
        return {"rows": self.groups[i]}

    def n_rows(self) -> int:
        return sum(len(g) for g in self.groups)


def _split(rows: list[dict]) -> int:
    """Where a group's rows part: their longest common token prefix, ending before the first answer
    token of any row and leaving every row at least one token to run (>= 1)."""
    ids = [r["input_ids"] for r in rows]
    first_label = min(next((j for j, x in enumerate(r["labels"]) if x != IGNORE), len(r["labels"]))
                      for r in rows)
    limit = min(min(len(x) for x in ids) - 1, first_label)
    n = 0
    while n < limit and all(x[n] == ids[0][n] for x in ids):
        n += 1
    return max(n, 1)


class SharedCollator:
    """Groups in, the prefix/suffix layout of ctrlrec.rl.prefix out, with `labels` [N, R]: the token
    each suffix position predicts (IGNORE where it is not an answer token or is padding)."""

    def __init__(self, pad_id: int):
        self.pad_id = pad_id

    def __call__(self, items: list[dict]) -> dict:
        import torch

        prompts, rests, targets = [], [], []
        for item in items:
            rows = item["rows"]
            cut = _split(rows)
            for r in rows:
                prompts.append(r["input_ids"][:cut])
                rests.append(r["input_ids"][cut:])
                targets.append(r["labels"][cut:])
        batch = prefix.tensors(prompts, rests, self.pad_id)
        if batch is None:  # a one-token sample: cannot be split (tokenise never gives one)
            raise ValueError("a sample of one token cannot be trained")
        width = batch["suffix_ids"].shape[1]
        labels = torch.full((len(targets), width), IGNORE, dtype=torch.long)
        for i, t in enumerate(targets):
            labels[i, : len(t)] = torch.tensor(t)
        # `labels` (already shifted) lets the Trainer count the answer tokens of the batch
        batch["labels"] = labels
        batch["shift_labels"] = labels
        batch["input_ids"] = batch["suffix_ids"]  # what the Trainer counts as tokens seen
        batch["attention_mask"] = batch["suffix_mask"]
        return batch


def _parts(model):
    """(decoder, lm_head) of a causal LM, a PEFT wrapper of one, or a DDP wrapper of either."""
    m = getattr(model, "module", model)
    if hasattr(m, "get_base_model"):
        m = m.get_base_model()
    return m.get_decoder() if hasattr(m, "get_decoder") else m.model, m.get_output_embeddings()


def shared_loss(model, batch: dict, prompt_grad: bool = True, num_items=None):
    """Cross-entropy of the answer tokens through the shared-prefix route: a sum over the batch's
    answer tokens divided by `num_items` (the Trainer's count over the accumulated batch) or by
    their own number."""
    import torch

    decoder, head = _parts(model)
    h = prefix.hidden(decoder, batch, prompt_grad)
    labels = batch["labels"]
    keep = labels != IGNORE
    logits = head(h[keep]).float()  # only the answer positions meet the vocabulary
    loss = torch.nn.functional.cross_entropy(logits, labels[keep], reduction="sum")
    denom = num_items if num_items is not None else keep.sum().clamp(min=1)
    return loss / denom


def shared_trainer_class():
    """transformers.Trainer with the shared-prefix loss (the class is made on first use, so that
    importing this module does not import transformers)."""
    from transformers import Trainer

    class SharedPrefixTrainer(Trainer):
        prompt_grad = True

        def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
            loss = shared_loss(model, inputs, self.prompt_grad, num_items_in_batch)
            if self.args.average_tokens_across_devices and num_items_in_batch is not None:
                loss = loss * self.accelerator.num_processes  # the count was summed over devices
            return (loss, None) if return_outputs else loss

    return SharedPrefixTrainer
