"""`ctrlrec tasks ...`: build instruction samples and the fixed test sets, and look at them."""

from __future__ import annotations

import json
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from ctrlrec import paths

app = typer.Typer(help="Build instruction samples (I0–I4) and fixed test sets.", no_args_is_help=True)
console = Console()


def _context(dataset: str, teacher: str):
    from ctrlrec.data import load
    from ctrlrec.tasks.context import PopularityRanker, TaskContext

    ds = load(dataset)
    if teacher == "popularity":
        return TaskContext(ds, PopularityRanker.from_dataset(ds)), ds
    from ctrlrec.teacher.api import Teacher

    t = Teacher.load(teacher)
    if t.n_items != ds.n_items:
        from ctrlrec.errors import CtrlrecError

        raise CtrlrecError(f"teacher {teacher} was trained on {t.n_items} items but {dataset} has "
                           f"{ds.n_items}; expected a teacher trained on this dataset")
    return TaskContext(ds, t, teacher_len=t.config.max_len), ds


def _sizes(text: str | None) -> dict[str, int]:
    from ctrlrec.errors import CtrlrecError

    out = {}
    for part in (text or "").split(","):
        if not part.strip():
            continue
        key, _, val = part.partition("=")
        if not val.strip().isdigit():
            raise CtrlrecError(f"--sizes: {part!r}; expected TASK=COUNT pairs, e.g. I0=2000,I3=500")
        out[key.strip()] = int(val)
    return out


@app.command()
def build(
    dataset: str = typer.Option(..., help="A prepared dataset."),
    teacher: str = typer.Option(..., help="Teacher run directory (or 'popularity')."),
    out: Path | None = typer.Option(
        None, help="Output folder (default $CTRLREC_HOME/tasks/DATASET, where SFT looks)."),
    sizes: str | None = typer.Option(None, help="Counts per task, e.g. I0=2000,I1+=1000."),
    scale: float = typer.Option(1.0, help="Multiply the paper's Table 8 proportions."),
    general: str = typer.Option(
        "replay:smollm2-135m",
        help="I4 data: a ShareGPT / chat JSONL file, 'replay:MODEL' (the model's own answers to "
             "general prompts, generated once and cached) or 'none'."),
    seed: int = typer.Option(0, help="Random seed."),
) -> None:
    """Build the training mixture; every label is checked with ctrlrec.scoring."""
    from ctrlrec.errors import CtrlrecError
    from ctrlrec.tasks.build import build_samples, save_training_set
    from ctrlrec.tasks.config import TaskConfig

    ctx, ds = _context(dataset, teacher)
    cfg = TaskConfig(seed=seed, scale=scale, sizes=_sizes(sizes))
    try:
        cfg.resolved_sizes(ds.n_users, ds.n_items, general != "none")
    except ValueError as exc:
        raise CtrlrecError(f"--sizes: {exc}") from None
    from ctrlrec.tasks.replay import general_conversations

    conv = general_conversations(general)
    samples, report = build_samples(ctx, cfg, conv)
    out = out or paths.home() / "tasks" / dataset
    save_training_set(out, samples, report, cfg, dataset, teacher)
    table = Table("task", "requested", "written", "unsatisfiable", "refused by scoring")
    for task, n in report["requested"].items():
        table.add_row(task, str(n), str(report["written"].get(task, 0)),
                      str(report["unsatisfiable"].get(task, 0)), str(report["refused"].get(task, 0)))
    console.print(table)
    console.print(f"wrote {report['total']:,} samples to {out / 'train.jsonl'}")


@app.command()
def testset(
    dataset: str = typer.Option(..., help="A prepared dataset."),
    teacher: str = typer.Option(..., help="Teacher run directory (or 'popularity')."),
    out: Path | None = typer.Option(
        None, help="Output folder (default $CTRLREC_HOME/tasks/DATASET, where SFT looks)."),
    seed: int = typer.Option(0, help="Random seed."),
    teacher_top: int = typer.Option(100, help="Teacher ranking length stored per case."),
) -> None:
    """Build the fixed test sets and the validation set."""
    from ctrlrec.tasks.config import TestsetConfig
    from ctrlrec.tasks.testsets import save_testsets

    ctx, _ = _context(dataset, teacher)
    out = out or paths.home() / "tasks" / dataset
    counts = save_testsets(out, ctx, TestsetConfig(seed=seed, teacher_top=teacher_top), dataset,
                           teacher)
    table = Table("set", "cases")
    for name, n in counts.items():
        table.add_row(name, f"{n:,}")
    console.print(table)
    console.print(f"test sets in {out / 'test'}, validation in {out / 'valid'}")


@app.command()
def show(
    file: Path = typer.Argument(..., help="A samples or test-set JSONL file."),
    n: int = typer.Option(3, help="How many to show."),
    task: str | None = typer.Option(None, help="Only this task (e.g. I2<=)."),
) -> None:
    """Print a few samples as chats."""
    from ctrlrec.errors import InputFileError

    if not file.is_file():
        raise InputFileError(file, "a JSONL file written by `ctrlrec tasks`", "file not found")
    shown = 0
    with open(file, encoding="utf-8") as fh:
        for line in fh:
            s = json.loads(line)
            if task and s.get("task", s.get("set")) != task:
                continue
            console.rule(f"{s.get('id')}  intent={json.dumps(s.get('intent'))}  k={s.get('k')}")
            for m in s["messages"]:
                console.print(f"[bold]{m['role']}[/bold]: {m['content']}", highlight=False)
            if "target" in s and "set" in s:
                console.print(f"[dim]target: {s['target']}[/dim]")
            shown += 1
            if shown >= n:
                break
