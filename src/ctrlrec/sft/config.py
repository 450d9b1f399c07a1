"""The supervised stage's configuration: one dataclass, every default documented where it is defined.

Load from TOML with `SFTConfig.from_toml(path, **overrides)`; unknown keys are an error. Defaults follow
the paper (§3.1.2: LoRA r=16, alpha=8 on all linear layers, lr 1e-3, effective batch 64) except where
a CPU run needs smaller numbers, which the quality run sets in its own TOML.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from ctrlrec.config import toml_values
from ctrlrec.errors import CtrlrecError

BATCHING = ("length", "padfree", "random", "shared")
SCHEDULERS = ("cosine", "polynomial", "linear", "constant_with_warmup")


@dataclass
class SFTConfig:
    # --- what to train on
    model: str = "smollm2-135m"  # registry name, local folder or hub id
    dataset: str | None = None  # dataset name; samples are read from $CTRLREC_HOME/tasks/<dataset>/
    train_file: str | None = None  # explicit JSONL of instruction samples (overrides `dataset`)
    valid_file: str | None = None  # JSONL of validation cases (messages without the answer + target)
    output_dir: str | None = None  # run directory; default runs/sft-<dataset>
    prompting: str = "paper"  # validation prompts: "paper" (`messages`) or "grounded" (with the pool)
    seed: int = 0
    max_length: int = 512  # tokens per sample (paper: 1024 with Llama-2 and its long system prompt)
    # --- what is trained: "lora" (adapters on a frozen base; the paper, and any 7B model) or "full"
    # (every weight, fp32 master weights; a 135M model fits in memory: the bundled model's default)
    finetune: str = "lora"
    # --- LoRA
    lora_r: int = 16
    lora_alpha: int = 8
    lora_dropout: float = 0.05
    target_modules: str = "all-linear"  # or a comma-separated list of module names
    # --- optimisation
    learning_rate: float = 1e-3
    lr_scheduler: str = "cosine"  # one of SCHEDULERS; "polynomial" decays with power 1..n set below
    lr_power: float = 2.0  # power of the polynomial schedule
    warmup_steps: float = 0.03  # < 1: a fraction of all steps; >= 1: a number of steps
    weight_decay: float = 0.0
    batch_size: int = 4  # samples per device per forward pass
    grad_accum: int = 16  # forward passes per optimiser step (4 x 16 = the paper's 64 on one device)
    epochs: float = 1.0
    max_steps: int = -1  # > 0 overrides epochs
    time_budget_min: float | None = None  # stop (and keep the best checkpoint) after this many minutes
    batching: str = "length"  # "length": length-grouped padded batches; "padfree": length-grouped and
    #                             concatenated into one row without padding; "random": plain padded batches;
    #                             "shared": batch_size sample groups (tasks built with group > 1), the prompt
    #                             prefix of a group run once for all its samples (ctrlrec.sft.shared)
    prompt_grad: bool = True  # "shared": the gradient through the shared prefix (exact); false: none
    gradient_checkpointing: bool = False  # less memory, ~40% more time
    device: str = "auto"  # auto, cpu, cuda
    precision: str = "auto"  # auto (bf16 where the hardware has it), fp32, bf16
    # --- checkpoints, validation, logging
    save_every: int = 50  # optimiser steps between checkpoints (resume picks the latest)
    save_total_limit: int = 2  # checkpoints kept besides the best adapter
    eval_every: int = 50  # optimiser steps between validations by greedy decoding; 0 = never
    eval_cases: int = 64  # validation cases decoded each time (the first N of the file)
    eval_batch_size: int = 16
    eval_max_new_tokens: int = 200
    best_metric: str = "NDCG"  # metric the best adapter is chosen by (higher is better)
    logging_steps: int = 5

    def check(self) -> None:
        if self.batching not in BATCHING:
            raise CtrlrecError(f"batching '{self.batching}': expected one of {', '.join(BATCHING)}")
        if self.batching == "shared" and self.gradient_checkpointing:
            raise CtrlrecError("batching 'shared' with gradient_checkpointing: a checkpointed model "
                               "returns no KV cache to share; expected one of them off")
        if self.lr_scheduler not in SCHEDULERS:
            raise CtrlrecError(f"lr_scheduler '{self.lr_scheduler}': expected one of {', '.join(SCHEDULERS)}")
        if self.prompting not in ("paper", "grounded"):
            raise CtrlrecError(f"prompting '{self.prompting}': expected paper or grounded")
        if self.finetune not in ("lora", "full"):
            raise CtrlrecError(f"finetune '{self.finetune}': expected lora or full")
        if self.train_file is None and self.dataset is None:
            raise CtrlrecError("SFT needs training samples: give --dataset NAME or train_file")
        for name in ("lora_r", "lora_alpha", "batch_size", "grad_accum", "max_length"):
            if getattr(self, name) < 1:
                raise CtrlrecError(f"{name} = {getattr(self, name)}: expected a positive integer")
        if not 0 <= self.lora_dropout < 1:
            raise CtrlrecError(f"lora_dropout = {self.lora_dropout}: expected a value in [0, 1)")

    def run_dir(self) -> Path:
        return Path(self.output_dir or f"runs/sft-{self.dataset or Path(self.train_file).stem}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_toml(cls, path: str | Path | None = None, **overrides) -> SFTConfig:
        """Defaults, then the TOML file (top level or an [sft] table), then non-None overrides."""
        values = toml_values(cls, path, "sft", overrides)
        cfg = cls(**values)
        cfg.check()
        return cfg
