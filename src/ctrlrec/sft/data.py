"""Instruction samples in, token batches out: reading JSONL, tokenising with loss masks, collating.

Collation modes (SFTConfig.batching):
- padded ("length" and "random"): right-padded rows; labels -100 on padding.
- "padfree": the samples of a batch are concatenated into one row with restarting position ids and no
  attention mask; transformers' masking detects the restarts and keeps attention within each sample
  (block-diagonal causal mask), so no compute goes to padding. The first token of every sample is a
  prompt token (label -100), so no sample learns from its neighbour.
"""

from __future__ import annotations

from pathlib import Path

from tqdm.auto import tqdm

from ctrlrec import paths
from ctrlrec.errors import CtrlrecError
from ctrlrec.jsonl import read_jsonl  # noqa: F401  (re-exported: sft's readers use it)
from ctrlrec.llm.chat import IGNORE, stop_token_ids, tokenise


def sample_files(
    dataset: str | None, train_file: str | None, valid_file: str | None
) -> tuple[Path, Path | None]:
    """The train and validation files: explicit paths, else $CTRLREC_HOME/tasks/<dataset>/."""
    if train_file:
        return Path(train_file), Path(valid_file) if valid_file else None
    d = paths.home() / "tasks" / str(dataset)
    if not (d / "train.jsonl").is_file():
        raise CtrlrecError(
            f"no instruction samples for '{dataset}' in {d}; build them first "
            f"(`ctrlrec tasks build --dataset {dataset} --teacher RUN`) or pass train_file"
        )
    valid = d / "valid.jsonl"  # written by `ctrlrec tasks testset`: the validation sets interleaved
    return d / "train.jsonl", (Path(valid_file) if valid_file else valid if valid.is_file() else None)


class TokenisedSamples:
    """A map-style dataset of {input_ids, labels} (a list, so Trainer's length grouping can index it)."""

    def __init__(self, tok, samples: list[dict], max_length: int, progress: bool = True):
        stops = stop_token_ids(tok)
        self.rows: list[dict] = []
        self.groups: list[object] = []  # each row's sample group (None: its own), for "shared" batching
        self.dropped = 0
        for s in tqdm(samples, desc="tokenise", unit="sample", disable=not progress, leave=False):
            t = tokenise(tok, s["messages"], max_length=max_length, stops=stops)
            if t.n_answer == 0:  # no assistant tokens left (no answer, or cut by max_length)
                self.dropped += 1
                continue
            self.rows.append({"input_ids": t.input_ids, "labels": t.labels})
            self.groups.append(s.get("group"))
        if not self.rows:
            raise CtrlrecError("no training sample has assistant tokens within max_length")

    def __len__(self) -> int:
        return len(self.rows)

    def __getitem__(self, i: int) -> dict:
        return self.rows[i]

    def lengths(self) -> list[int]:
        return [len(r["input_ids"]) for r in self.rows]


class Collator:
    """Turn a list of {input_ids, labels} into tensors (padded rows, or one padding-free row)."""

    def __init__(self, pad_id: int, padfree: bool = False):
        self.pad_id = pad_id
        self.padfree = padfree

    def __call__(self, rows: list[dict]) -> dict:
        import torch

        if self.padfree:
            ids = [t for r in rows for t in r["input_ids"]]
            labels = [t for r in rows for t in r["labels"]]
            pos = [p for r in rows for p in range(len(r["input_ids"]))]
            return {
                "input_ids": torch.tensor([ids]),
                "labels": torch.tensor([labels]),
                "position_ids": torch.tensor([pos]),
            }
        width = max(len(r["input_ids"]) for r in rows)
        ids = torch.full((len(rows), width), self.pad_id, dtype=torch.long)
        labels = torch.full((len(rows), width), IGNORE, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            n = len(r["input_ids"])
            ids[i, :n] = torch.tensor(r["input_ids"])
            labels[i, :n] = torch.tensor(r["labels"])
            mask[i, :n] = 1
        return {"input_ids": ids, "labels": labels, "attention_mask": mask}
