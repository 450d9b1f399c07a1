"""Trainer callbacks: validation by greedy decoding (keeping the best adapter), a progress bar with
loss, tokens/s and ETA, a wall-clock budget, and a JSONL log of every logged record."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path

from tqdm.auto import tqdm
from transformers import TrainerCallback
from transformers.trainer_callback import ProgressCallback

from ctrlrec.atomic import atomic_dir, write_json
from ctrlrec.llm.generate import GenerationConfig, generate

Evaluator = Callable[[list[str], list[dict]], dict]


class Validation(TrainerCallback):
    """Every `every` optimiser steps (and at the end): decode the validation cases greedily, score them
    with `evaluator`, and keep the adapter with the best `metric` in `run_dir/best` (atomically)."""

    def __init__(
        self,
        tok,
        cases: list[dict],
        evaluator: Evaluator,
        run_dir: Path,
        every: int,
        metric: str,
        gen: GenerationConfig,
    ):
        self.tok, self.cases, self.evaluator = tok, cases, evaluator
        self.run_dir, self.every, self.metric, self.gen = Path(run_dir), every, metric, gen
        self.history: list[dict] = []
        self.best: dict | None = None
        best_file = self.run_dir / "best" / "metrics.json"
        if best_file.is_file():  # resuming: the best so far stays the bar to beat
            self.best = json.loads(best_file.read_text())
        self._last_step = -1

    def _run(self, args, state, model) -> None:
        if state.global_step == self._last_step or not state.is_world_process_zero:
            return
        self._last_step = state.global_step
        gens = generate(model, self.tok, self.cases, self.gen, progress=True)
        metrics = {k: float(v) for k, v in self.evaluator(gens, self.cases).items()}
        record = {
            "step": state.global_step,
            "epoch": state.epoch,
            **{f"val_{k}": v for k, v in metrics.items()},
        }
        self.history.append(record)
        state.log_history.append(record)
        tqdm.write(
            "validation "
            + " ".join(f"{k}={v:.4f}" if isinstance(v, float) else f"{k}={v}" for k, v in record.items())
        )
        score = metrics.get(self.metric)
        if score is None:
            raise KeyError(f"the evaluator returned no '{self.metric}' (got {sorted(metrics)})")
        # ties go to the later adapter: with the same score it has seen more data (a small model can
        # score 0 at every early validation, and the first adapter would otherwise be kept)
        if self.best is None or score >= self.best["score"]:
            self.best = {
                "step": state.global_step,
                "metric": self.metric,
                "score": score,
                "metrics": metrics,
                "example": gens[0] if gens else "",
            }
            with atomic_dir(self.run_dir / "best") as tmp:
                model.save_pretrained(tmp)
                if not (tmp / "adapter_config.json").is_file():  # a whole model (full fine-tuning)
                    self.tok.save_pretrained(tmp)
                write_json(tmp / "metrics.json", self.best)

    def on_step_end(self, args, state, control, model=None, **kw):
        if self.every > 0 and state.global_step % self.every == 0:
            self._run(args, state, model)

    def on_train_end(self, args, state, control, model=None, **kw):
        self._run(args, state, model)


class RateProgress(ProgressCallback):
    """Trainer's progress bar (steps, ETA) with the latest loss and training tokens/s as postfix."""

    def __init__(self, log_file: Path | None = None):
        super().__init__()
        self.log_file = log_file
        self._t0 = None
        self._tokens0 = 0

    def on_train_begin(self, args, state, control, **kw):
        super().on_train_begin(args, state, control, **kw)
        self._t0, self._tokens0 = time.perf_counter(), state.num_input_tokens_seen

    def on_log(self, args, state, control, logs=None, **kw):
        logs = dict(logs or {})
        elapsed = time.perf_counter() - (self._t0 or time.perf_counter())
        rate = (state.num_input_tokens_seen - self._tokens0) / elapsed if elapsed > 0 else 0.0
        logs["tokens_per_s"] = round(rate, 1)
        if self.log_file is not None and state.is_world_process_zero:
            with open(self.log_file, "a") as fh:
                fh.write(json.dumps({"step": state.global_step, **logs}) + "\n")
        if self.training_bar is not None and "loss" in logs:
            self.training_bar.set_postfix(
                loss=f"{logs['loss']:.3f}", tok_s=f"{rate:.0f}", lr=f"{logs.get('learning_rate', 0):.1e}"
            )


class TimeBudget(TrainerCallback):
    """Stop training (saving a checkpoint) once `minutes` of wall-clock time have passed."""

    def __init__(self, minutes: float | None):
        self.seconds = None if minutes is None else minutes * 60
        self._t0 = None

    def on_train_begin(self, args, state, control, **kw):
        self._t0 = time.perf_counter()

    def on_step_end(self, args, state, control, **kw):
        if self.seconds is not None and time.perf_counter() - self._t0 > self.seconds:
            control.should_training_stop = True
            control.should_save = True


COMPLETE = "ctrlrec-complete"  # written into a checkpoint folder once the Trainer has finished it


class CheckpointMarker(TrainerCallback):
    """Marks each checkpoint complete after the Trainer wrote all of it (`on_save` comes after the
    whole folder is written), so a kill in the middle of a save never leaves a folder that resume picks."""

    def on_save(self, args, state, control, **kw):
        folder = Path(args.output_dir) / f"checkpoint-{state.global_step}"
        if folder.is_dir():
            (folder / COMPLETE).write_text(str(state.global_step))


def last_complete_checkpoint(ckpt_dir: Path) -> str | None:
    """The newest checkpoint folder marked complete.

    A newer unmarked folder (a save cut by a kill) is renamed `incomplete-checkpoint-N`, so neither
    resume nor the Trainer's rotation takes it for a checkpoint (nothing is deleted). Runs written
    before the marker existed have no marked folder: their newest folder with `trainer_state.json`
    (written at the end of a save) is used.
    """
    ckpt_dir = Path(ckpt_dir)
    if not ckpt_dir.is_dir():
        return None
    found = sorted((p for p in ckpt_dir.glob("checkpoint-*") if p.name.split("-")[-1].isdigit()),
                   key=lambda p: int(p.name.split("-")[-1]))
    marked = [p for p in found if (p / COMPLETE).is_file()]
    if not marked:
        legacy = [p for p in found if (p / "trainer_state.json").is_file()]
        return str(legacy[-1]) if legacy else None
    for p in found:
        if int(p.name.split("-")[-1]) > int(marked[-1].name.split("-")[-1]):
            p.rename(p.with_name(f"incomplete-{p.name}"))
    return str(marked[-1])
