"""`ctrlrec teacher ...`: train, evaluate and query the SASRec teacher."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Train, evaluate and query the SASRec teacher.", no_args_is_help=True)
console = Console()


def _metrics_table(title: str, rows: dict[str, dict]) -> Table:
    table = Table(title=title)
    table.add_column("model")
    keys = [f"{m}@{k}" for k in (5, 10, 20) for m in ("hr", "ndcg")]
    for k in keys:
        table.add_column(k.upper(), justify="right")
    for name, m in rows.items():
        table.add_row(name, *(f"{m[k]:.4f}" for k in keys))
    return table


# what --resume may change (how long and where the run goes on); every other field shapes the model
RESUME_BUDGET = ("epochs", "patience", "device", "precision", "threads")


@app.command()
def train(
    ctx: typer.Context,
    dataset: str = typer.Option(..., help="Prepared dataset name or folder, e.g. ml-100k."),
    out: Path | None = typer.Option(None, help="Run directory (default runs/teacher-DATASET)."),
    resume: bool = typer.Option(False, help="Continue the interrupted run in --out with its saved config; "
                                "--epochs, --patience, --device, --precision and --threads may be changed."),
    overwrite: bool = typer.Option(False, help="Start again even if --out holds a run."),
    max_len: int = typer.Option(50, help="Most recent items the model sees."),
    hidden: int = typer.Option(64, help="Embedding / model width."),
    layers: int = typer.Option(2, help="Self-attention blocks."),
    heads: int = typer.Option(2, help="Attention heads."),
    dropout: float = typer.Option(0.2, help="Dropout rate."),
    prenorm: bool = typer.Option(False, help="Pre-LayerNorm blocks (default post-LN)."),
    loss: str = typer.Option("ce", help="'ce' (full softmax) or 'bce' (sampled negatives)."),
    negatives: int = typer.Option(1, help="Negatives per position for --loss bce."),
    windows: str = typer.Option("stride", help="'stride', 'chunks', 'last' or 'random' training windows."),
    stride: int = typer.Option(10, help="Distance between window ends for --windows stride."),
    batch_size: int = typer.Option(256, help="Training windows per step."),
    lr: float = typer.Option(1e-3, help="AdamW learning rate."),
    weight_decay: float = typer.Option(0.0, help="AdamW weight decay."),
    epochs: int = typer.Option(200, help="Most epochs to run."),
    patience: int = typer.Option(10, help="Early stopping patience (epochs)."),
    seed: int = typer.Option(2024, help="Random seed."),
    device: str = typer.Option("auto", help="auto, cpu, cuda or cuda:N."),
    precision: str = typer.Option("auto", help="auto, fp32 or bf16."),
    threads: int = typer.Option(0, help="CPU threads (0 = torch default)."),
) -> None:
    """Train SASRec on a prepared dataset; prints test metrics beside a popularity floor."""
    from ctrlrec.teacher.config import TeacherConfig
    from ctrlrec.teacher.train import train as run_train

    run = out or Path("runs") / f"teacher-{Path(dataset).name}"
    if resume:
        from ctrlrec.weights import saved_config

        cfg = _resume_config(ctx, run, saved_config(run, TeacherConfig))
    else:
        cfg = TeacherConfig(
            dataset=dataset, max_len=max_len, hidden=hidden, layers=layers, heads=heads,
            dropout=dropout, prenorm=prenorm, loss=loss, negatives=negatives, windows=windows,
            stride=stride,
            batch_size=batch_size, lr=lr, weight_decay=weight_decay, epochs=epochs,
            patience=patience, seed=seed, device=device, precision=precision, threads=threads)
    res = run_train(cfg, run, resume=resume, overwrite=overwrite)
    _report(res, run)


def _resume_config(ctx: typer.Context, run: Path, saved):
    """The saved config with the budget options given on this command line; one error naming an
    option that would change the model."""
    import json
    from dataclasses import replace

    from ctrlrec.atomic import write_json
    from ctrlrec.errors import CtrlrecError

    given = {name: value for name, value in ctx.params.items()
             if name not in ("dataset", "out", "resume", "overwrite")
             # by name: typer vendors its own click, whose ParameterSource is another enum
             and getattr(ctx.get_parameter_source(name), "name", "") == "COMMANDLINE"}
    for name, value in given.items():
        if name not in RESUME_BUDGET and getattr(saved, name, value) != value:
            raise CtrlrecError(
                f"--{name.replace('_', '-')} {value}: {run} was started with {getattr(saved, name)}, and "
                f"resuming cannot change the model; only {', '.join('--' + b for b in RESUME_BUDGET)} "
                "may change on --resume (or start again with --overwrite)")
    changed = {n: v for n, v in given.items() if n in RESUME_BUDGET and getattr(saved, n) != v}
    cfg = replace(saved, **changed)
    if changed:
        meta = json.loads((run / "config.json").read_text())
        write_json(run / "config.json", {**meta, "config": cfg.to_dict()})
        console.print(f"resuming {run}; changed " + ", ".join(
            f"{n} {getattr(saved, n)} -> {v}" for n, v in changed.items()))
    else:
        console.print(f"resuming {run} with its saved config")
    return cfg


def _report(res: dict, run: Path) -> None:
    console.print(f"best epoch {res['best_epoch']} of {res['epochs_run']}, "
                  f"{res['train_s_per_epoch']:.1f} s/epoch training on {res['device']}; "
                  f"valid NDCG@10 {res['best_valid'].get('ndcg@10', float('nan')):.4f}")
    console.print(_metrics_table(f"test, full ranking, {res['eval_users']} users",
                                 {"SASRec": res["test"], "popularity": res["popularity"]}))
    console.print(f"saved to {run}")


@app.command("eval")
def evaluate(
    run: Path = typer.Argument(..., help="Teacher run directory."),
    split: str = typer.Option("test", help="'test' or 'valid'."),
    dataset: str | None = typer.Option(None, help="Dataset (default: the one it was trained on)."),
    device: str = typer.Option("auto", help="auto, cpu, cuda or cuda:N."),
) -> None:
    """Full-ranking HR/NDCG@5/10/20 of a trained teacher and of popularity."""
    from ctrlrec.data import load
    from ctrlrec.errors import CtrlrecError
    from ctrlrec.teacher.api import Teacher
    from ctrlrec.teacher.evaluate import evaluate_with_floor

    if split not in ("test", "valid"):
        raise CtrlrecError(f"--split {split}: expected 'test' or 'valid'")
    teacher = Teacher.load(run, device=device)
    ds = load(dataset or teacher.config.dataset)
    if ds.n_items != teacher.n_items:
        raise CtrlrecError(f"dataset {ds.name} has {ds.n_items} items but the teacher in {run} "
                           f"was trained on {teacher.n_items}; expected the same dataset")
    res = evaluate_with_floor(teacher, ds, split, teacher.config.eval_batch)
    console.print(_metrics_table(f"{ds.name} {split}, full ranking, {res['users']} users",
                                 {"SASRec": res["sasrec"], "popularity": res["popularity"]}))


@app.command()
def recommend(
    run: Path = typer.Argument(..., help="Teacher run directory."),
    user: int = typer.Option(..., help="User id (dense, 0-based) of the trained dataset."),
    k: int = typer.Option(10, help="How many items."),
    include: str | None = typer.Option(None, help="Only items of this category."),
    exclude: str | None = typer.Option(None, help="No items of this category."),
    history: int = typer.Option(5, help="How many of the user's latest items to show."),
    device: str = typer.Option("auto", help="auto, cpu, cuda or cuda:N."),
) -> None:
    """Top-k next items after everything user U has seen, with titles and categories."""
    from ctrlrec.data import load
    from ctrlrec.errors import CtrlrecError
    from ctrlrec.teacher.api import Teacher

    if include and exclude:
        raise CtrlrecError("--include and --exclude: expected at most one of them")
    teacher = Teacher.load(run, device=device)
    ds = load(teacher.config.dataset)
    if not 0 <= user < ds.n_users:
        raise CtrlrecError(f"--user {user}: expected a user id in 0..{ds.n_users - 1}")
    seq = ds.sequences[user]
    items = teacher.topk([seq], k, include=include, exclude=exclude)[0]
    cat = ds.catalog.set_index("item_id")
    shown = Table(title=f"user {user}: latest {min(history, len(seq))} of {len(seq)} items")
    for col in ("item", "title", "categories"):
        shown.add_column(col)
    if history > 0:
        for i in seq[-history:]:
            shown.add_row(str(i), cat.at[i, "title"], ", ".join(cat.at[i, "categories"]))
        console.print(shown)
    what = f" in {include}" if include else (f" not in {exclude}" if exclude else "")
    table = Table(title=f"top {k}{what}")
    for col in ("rank", "item", "title", "categories"):
        table.add_column(col)
    for r, i in enumerate(i for i in items if i >= 0):
        table.add_row(str(r + 1), str(i), cat.at[i, "title"], ", ".join(cat.at[i, "categories"]))
    console.print(table)
