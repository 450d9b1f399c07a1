"""`ctrlrec sft ...`: train, merge, and evaluate on a test file."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="Supervised fine-tuning (LoRA SFT) on instruction samples.")


def _evaluator(dataset: str):
    from ctrlrec.data import load_catalog
    from ctrlrec.sft.evaluator import make_evaluator

    return make_evaluator(load_catalog(dataset))


@app.command("train")
def train_cmd(
    dataset: str = typer.Option(
        None, "--dataset", help="Dataset name; samples from $CTRLREC_HOME/tasks/NAME/."
    ),
    model: str = typer.Option(None, "--model", help="Registry name (smollm2-135m), folder or hub id."),
    config: Path = typer.Option(
        None, "--config", help="TOML file with SFTConfig fields (top level or [sft])."
    ),
    output_dir: str = typer.Option(None, "--out", help="Run directory (default runs/sft-DATASET)."),
    max_steps: int = typer.Option(None, "--max-steps", help="Optimiser steps (overrides epochs)."),
    time_budget_min: float = typer.Option(None, "--time-budget", help="Stop after this many minutes."),
    fresh: bool = typer.Option(False, "--fresh", help="Ignore existing checkpoints instead of resuming."),
) -> None:
    """Fine-tune a model with LoRA; resumes from the run's latest checkpoint."""
    from ctrlrec.sft.config import SFTConfig
    from ctrlrec.sft.trainer import train

    cfg = SFTConfig.from_toml(
        config,
        dataset=dataset,
        model=model,
        output_dir=output_dir,
        max_steps=max_steps,
        time_budget_min=time_budget_min,
    )
    evaluator = _evaluator(cfg.dataset) if cfg.dataset else None
    run = train(cfg, evaluator, resume=not fresh)
    typer.echo(f"run: {run}")


@app.command("merge")
def merge_cmd(
    run: Path = typer.Argument(..., help="SFT run directory."),
    which: str = typer.Option("best", help="Adapter to merge: best or adapter (the last)."),
) -> None:
    """Fold the run's LoRA adapter into the base model (writes RUN/merged)."""
    from ctrlrec.sft.merge import merge

    typer.echo(f"merged: {merge(run, which)}")


@app.command("evaluate")
def evaluate_cmd(
    model: str = typer.Argument(..., help="SFT run, adapter folder, model folder or registry name."),
    dataset: str = typer.Option(..., "--dataset", help="Dataset whose catalog grounds the titles."),
    cases: Path = typer.Option(
        None, "--cases", help="Test JSONL (default $CTRLREC_HOME/tasks/DATASET/test/I0.jsonl)."
    ),
    out: Path = typer.Option(..., "--out", help="Folder for generations.jsonl and metrics.json."),
    limit: int = typer.Option(0, help="Only the first N cases (0 = all)."),
    batch_size: int = typer.Option(16, help="Prompts per generation batch."),
    max_new_tokens: int = typer.Option(320, help="Generation length cap."),
) -> None:
    """Greedy decoding over a test file, scored (I0: HR/NDCG@k, formatting errors)."""
    import time

    import orjson

    from ctrlrec import paths
    from ctrlrec.atomic import atomic_file, write_json
    from ctrlrec.llm.generate import GenerationConfig, generate
    from ctrlrec.llm.models import load_any
    from ctrlrec.manifest import manifest
    from ctrlrec.sft.data import read_jsonl

    rows = read_jsonl(cases or paths.home() / "tasks" / dataset / "test" / "I0.jsonl")
    rows = rows[:limit] if limit else rows
    m, tok = load_any(model)
    t0 = time.perf_counter()
    gens = generate(m, tok, rows, GenerationConfig(max_new_tokens=max_new_tokens, batch_size=batch_size))
    seconds = time.perf_counter() - t0
    metrics = _evaluator(dataset)(gens, rows)
    with atomic_file(out / "generations.jsonl", "wb", encoding=None) as fh:
        for g, r in zip(gens, rows, strict=True):
            fh.write(
                orjson.dumps({"target": r.get("target"), "history": r.get("history"), "text": g}) + b"\n"
            )
    write_json(
        out / "metrics.json",
        manifest(
            "sft-evaluate",
            {"model": model, "dataset": dataset, "cases": str(cases), "n": len(rows)},
            None,
            metrics=metrics,
            generation_seconds=seconds,
        ),
    )
    typer.echo(
        " ".join(f"{k}={v:.4f}" for k, v in metrics.items()) + f"  ({len(rows)} cases, {seconds:.0f} s)"
    )
