"""The supervised stage: LoRA (or full) fine-tuning of a causal LM on instruction samples, on the Transformers
Trainer (gradient accumulation, schedules, checkpoints with resume, Accelerate for several GPUs).

One straight pipeline: config -> seed -> placement -> model + LoRA -> samples -> Trainer -> best adapter.
The run directory holds: manifest.json (config, seed, versions, metrics), checkpoints/ (Trainer's, for
resume), best/ (the adapter with the best validation metric), adapter/ (the last one), log.jsonl.
The same code runs on one CPU and under `accelerate launch` on several GPUs.
"""

from __future__ import annotations

import json
from pathlib import Path

from ctrlrec.atomic import atomic_dir, write_json
from ctrlrec.errors import CtrlrecError
from ctrlrec.llm.device import choose
from ctrlrec.llm.generate import GenerationConfig
from ctrlrec.llm.models import load_model, load_tokenizer
from ctrlrec.manifest import manifest
from ctrlrec.sft.callbacks import (
    CheckpointMarker,
    Evaluator,
    RateProgress,
    TimeBudget,
    Validation,
    last_complete_checkpoint,
)
from ctrlrec.sft.config import SFTConfig
from ctrlrec.sft.data import Collator, TokenisedSamples, read_jsonl, sample_files
from ctrlrec.sft.shared import GroupedSamples, SharedCollator, shared_trainer_class


def add_lora(model, cfg: SFTConfig):
    """Wrap `model` with LoRA adapters as configured (all linear layers by default)."""
    from peft import LoraConfig, get_peft_model

    targets = (
        cfg.target_modules
        if cfg.target_modules == "all-linear"
        else [m.strip() for m in cfg.target_modules.split(",") if m.strip()]
    )
    lora = LoraConfig(
        r=cfg.lora_r,
        lora_alpha=cfg.lora_alpha,
        lora_dropout=cfg.lora_dropout,
        target_modules=targets,
        task_type="CAUSAL_LM",
        bias="none",
    )
    try:
        return get_peft_model(model, lora)
    except ValueError as exc:
        raise CtrlrecError(f"target_modules '{cfg.target_modules}': {exc}") from exc


def training_args(cfg: SFTConfig, run_dir: Path, placement):
    from transformers import TrainingArguments

    return TrainingArguments(
        output_dir=str(run_dir / "checkpoints"),
        per_device_train_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type=cfg.lr_scheduler,
        lr_scheduler_kwargs={"power": cfg.lr_power} if cfg.lr_scheduler == "polynomial" else {},
        warmup_steps=cfg.warmup_steps,
        weight_decay=cfg.weight_decay,
        num_train_epochs=cfg.epochs,
        max_steps=cfg.max_steps,
        logging_steps=cfg.logging_steps,
        save_strategy="steps",
        save_steps=cfg.save_every,
        save_total_limit=cfg.save_total_limit,
        eval_strategy="no",  # validation is by generation, in the Validation callback
        # On CUDA, bf16 autocast; on CPU the frozen weights are already bf16 and autocast only costs time.
        bf16=placement.precision == "bf16" and placement.device == "cuda",
        use_cpu=placement.device == "cpu",
        gradient_checkpointing=cfg.gradient_checkpointing,
        gradient_checkpointing_kwargs={"use_reentrant": False} if cfg.gradient_checkpointing else None,
        train_sampling_strategy="random" if cfg.batching in ("random", "shared") else "group_by_length",
        remove_unused_columns=False,
        include_num_input_tokens_seen="non_padding",
        report_to="none",
        seed=cfg.seed,
        data_seed=cfg.seed,
        dataloader_num_workers=0,
        disable_tqdm=True,  # RateProgress draws the bar
    )


def build_trainer(cfg: SFTConfig, evaluator: Evaluator | None = None, progress: bool = True):
    """The configured Trainer and the run directory, without starting to train."""
    from transformers import Trainer, set_seed
    from transformers.trainer_callback import PrinterCallback

    cfg.check()
    set_seed(cfg.seed)
    run_dir = cfg.run_dir()
    # inputs first: a bad file or model name is refused before anything is loaded or written
    train_file, valid_file = sample_files(cfg.dataset, cfg.train_file, cfg.valid_file)
    train_rows = read_jsonl(train_file)
    if not train_rows:
        raise CtrlrecError(f"{train_file}: no samples; expected a JSONL file of instruction samples")
    valid_rows = read_jsonl(valid_file) if valid_file is not None else None
    placement = choose(cfg.device, cfg.precision)
    tok = load_tokenizer(cfg.model)
    # full fine-tuning keeps fp32 master weights (bf16 autocast on CUDA through `placement`)
    model = load_model(cfg.model, choose(cfg.device, "fp32") if cfg.finetune == "full" else placement)
    if cfg.gradient_checkpointing:
        model.enable_input_require_grads()  # checkpointed blocks need an input that requires grad
    model.config.use_cache = False  # no KV cache while training (generation turns it on per call)
    if cfg.finetune == "lora":
        model = add_lora(model, cfg)
    train = TokenisedSamples(tok, train_rows, cfg.max_length, progress=progress)
    run_dir.mkdir(parents=True, exist_ok=True)
    callbacks = [RateProgress(run_dir / "log.jsonl"), TimeBudget(cfg.time_budget_min), CheckpointMarker()]
    validation = None
    if evaluator is not None and valid_rows is not None and cfg.eval_every >= 0:
        cases = valid_rows[: cfg.eval_cases]
        if cfg.prompting == "grounded":  # validate on the prompts the model is trained for
            cases = [{**c, "messages": c["messages_grounded"]} for c in cases]
        gen = GenerationConfig(max_new_tokens=cfg.eval_max_new_tokens, batch_size=cfg.eval_batch_size)
        validation = Validation(tok, cases, evaluator, run_dir, cfg.eval_every, cfg.best_metric, gen)
        callbacks.append(validation)
    if cfg.batching == "shared":  # one forward of each group's shared prompt (ctrlrec.sft.shared)
        cls = shared_trainer_class()
        cls.prompt_grad = cfg.prompt_grad
        dataset, collator = GroupedSamples(train.rows, train.groups), SharedCollator(tok.pad_token_id)
    else:
        cls = Trainer
        dataset, collator = train, Collator(tok.pad_token_id, padfree=cfg.batching == "padfree")
    trainer = cls(
        model=model,
        args=training_args(cfg, run_dir, placement),
        train_dataset=dataset,
        data_collator=collator,
        processing_class=tok,
        callbacks=callbacks,
    )
    trainer.remove_callback(PrinterCallback)  # RateProgress shows the logs; no dict dumps on stdout
    trainer.ctrlrec = {
        "run_dir": run_dir,
        "placement": placement,
        "train": train,
        "validation": validation,
        "tokenizer": tok,
        "files": (train_file, valid_file),
    }
    return trainer


def train(
    cfg: SFTConfig, evaluator: Evaluator | None = None, resume: bool = True, progress: bool = True
) -> Path:
    """Train (resuming from the latest checkpoint unless `resume` is False); return the run directory."""
    trainer = build_trainer(cfg, evaluator, progress)
    info = trainer.ctrlrec
    run_dir, placement = info["run_dir"], info["placement"]
    ckpt_dir = run_dir / "checkpoints"
    last = last_complete_checkpoint(ckpt_dir) if resume else None
    key = resume_key(cfg, info["files"][0])
    if last is not None:
        check_resumable(run_dir, key, last)
    base = {
        "placement": {"device": placement.device, "precision": placement.precision},
        "files": [str(f) if f else None for f in info["files"]],
        "n_train": len(info["train"]),
        "dropped_over_max_length": info["train"].dropped,
        "resume_key": key,
    }
    if trainer.is_world_process_zero():
        write_json(
            run_dir / "manifest.json",
            manifest("sft", cfg.to_dict(), cfg.seed, status="running", resumed_from=last, **base),
        )
    result = trainer.train(resume_from_checkpoint=last)
    if trainer.is_world_process_zero():
        # the last weights: a LoRA adapter in adapter/, or the whole model in model/ (full fine-tuning)
        with atomic_dir(run_dir / ("adapter" if cfg.finetune == "lora" else "model")) as tmp:
            trainer.model.save_pretrained(tmp)
            if cfg.finetune == "full":
                info["tokenizer"].save_pretrained(tmp)
        info["tokenizer"].save_pretrained(run_dir / "tokenizer")
        val = info["validation"]
        write_json(
            run_dir / "manifest.json",
            manifest(
                "sft",
                cfg.to_dict(),
                cfg.seed,
                status="done",
                resumed_from=last,
                **base,
                train_metrics=result.metrics,
                steps=trainer.state.global_step,
                tokens_seen=trainer.state.num_input_tokens_seen,
                validation=val.history if val else [],
                best=val.best if val else None,
            ),
        )
    return run_dir


# what a checkpoint was trained on: a checkpoint is resumed only with the same data, model and shapes
# (epochs, max_steps, schedule and saving may change: "train longer" is a resume)
RESUME_FIELDS = ("model", "seed", "max_length", "finetune", "lora_r", "lora_alpha", "lora_dropout",
                 "target_modules",
                 "batch_size", "grad_accum", "batching")


def resume_key(cfg: SFTConfig, train_file) -> str:
    import hashlib

    h = hashlib.sha256(json.dumps({f: getattr(cfg, f) for f in RESUME_FIELDS}, sort_keys=True).encode())
    with open(train_file, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def check_resumable(run_dir: Path, key: str, last: str) -> None:
    """Refuse to continue a checkpoint trained on other samples or another model/shape (its run's
    manifest says what it was trained on; runs from before the key are trusted)."""
    path = Path(run_dir) / "manifest.json"
    old = json.loads(path.read_text()).get("resume_key") if path.is_file() else None
    if old is not None and old != key:
        raise CtrlrecError(
            f"{last}: trained on other samples or another model/config ({', '.join(RESUME_FIELDS)} or "
            f"the train file changed); expected the same ones to resume. Move {run_dir} aside to start "
            "afresh, or pass the run's original samples and config")
