"""`ctrlrec cf ...`: train, evaluate and compare the CF models."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Collaborative-filtering models with side embeddings; cold-start splits.",
                  no_args_is_help=True)
console = Console()
_MODELS = "biasmf,ncf,lightgcn,sgl,simgcl"


def _table(title: str, rows: dict[str, dict]) -> Table:
    table = Table(title=title)
    table.add_column("")
    keys = [f"{m}@{k}" for k in (10, 20, 40) for m in ("recall", "ndcg")]
    for k in keys:
        table.add_column(k, justify="right")
    for name, m in rows.items():
        table.add_row(name, *(f"{m[k]:.4f}" for k in keys))
    return table


def _config(**kw):
    from ctrlrec.cf.config import CFConfig

    return CFConfig(**kw)


def _split_list(value: str, allowed, what: str) -> list[str]:
    from ctrlrec.errors import CtrlrecError

    items = [v.strip() for v in value.split(",") if v.strip()]
    bad = [v for v in items if v not in allowed]
    if bad or not items:
        raise CtrlrecError(f"--{what} {value}: expected a comma-separated list of {', '.join(allowed)}")
    return items


def _seed_list(value: str | None) -> list[int] | None:
    from ctrlrec.errors import CtrlrecError

    if value is None:
        return None
    try:
        seeds = [int(x) for x in value.split(",") if x.strip()]
    except ValueError:
        seeds = []
    if not seeds or len(set(seeds)) != len(seeds):
        raise CtrlrecError(f"--seeds {value}: expected distinct integers separated by commas, "
                           "e.g. 2024,2025,2026")
    return seeds


@app.command()
def train(
    dataset: str = typer.Option(..., help="Prepared dataset name or folder, e.g. ml-100k."),
    model: str = typer.Option("lightgcn", help="biasmf, ncf, lightgcn, sgl or simgcl."),
    split: str = typer.Option("random", help="random, loo, snapshot or cold-item."),
    side: str = typer.Option("none", help="Side embeddings: none, text or profiles."),
    profiles: str | None = typer.Option(None, help="side=profiles: the `ctrlrec profiles build` run "
                                        "(same dataset, split and seed)."),
    fuse: str = typer.Option("sum", help="Fusion of side projection and ID: sum or concat."),
    out: Path | None = typer.Option(None, help="Run directory (default runs/cf-DATASET-MODEL-SPLIT-SIDE)."),
    resume: bool = typer.Option(False, help="Continue the interrupted run in --out."),
    overwrite: bool = typer.Option(False, help="Start again even if --out holds a run."),
    cold_share: float = typer.Option(0.2, help="cold-item split: share of items held out."),
    dim: int = typer.Option(64, help="Embedding width."),
    layers: int = typer.Option(3, help="Propagation layers (graph models)."),
    lr: float = typer.Option(5e-3, help="Adam learning rate."),
    reg: float = typer.Option(1e-4, help="L2 weight on the batch's layer-0 embeddings."),
    init_std: float = typer.Option(0.1, help="Std of the ID embeddings' init; 0 = Xavier normal."),
    batch_size: int = typer.Option(2048, help="Triples per step."),
    epochs: int = typer.Option(100, help="Most epochs."),
    patience: int = typer.Option(5, help="Early-stopping patience (epochs)."),
    ssl_weight: float | None = typer.Option(None, help="SGL/SimGCL InfoNCE weight (default 0.1 / 0.2)."),
    ssl_warmup: int = typer.Option(0, help="SGL/SimGCL: epochs over which the InfoNCE weight ramps up."),
    seed: int = typer.Option(2024, help="Random seed."),
    split_seed: int | None = typer.Option(None, help="Seed of the split alone (default: --seed), to "
                                          "vary the initialisation over a fixed split."),
    device: str = typer.Option("auto", help="auto, cpu, cuda or cuda:N."),
    threads: int = typer.Option(0, help="CPU threads (0 = torch default)."),
) -> None:
    """Train one model; prints test Recall/NDCG at 10/20/40 (full ranking, training items masked)."""
    from ctrlrec.cf.config import CFConfig
    from ctrlrec.cf.train import train as run_train

    run = out or Path("runs") / f"cf-{Path(dataset).name}-{model}-{split}-{side}"
    if resume:
        from ctrlrec.weights import saved_config

        cfg = saved_config(run, CFConfig)
        console.print(f"resuming {run} with its saved config")
    else:
        cfg = _config(dataset=dataset, model=model, split=split, side=side, profiles=profiles, fuse=fuse,
                      cold_share=cold_share, dim=dim, layers=layers, lr=lr, reg=reg,
                      init_std=init_std, batch_size=batch_size, epochs=epochs, patience=patience,
                      seed=seed, split_seed=split_seed, ssl_weight=ssl_weight,
                      ssl_warmup=ssl_warmup, device=device, threads=threads)
    res = run_train(cfg, run, resume=resume, overwrite=overwrite)
    console.print(f"best epoch {res['best_epoch']} of {res['epochs_run']}, "
                  f"{res['s_per_epoch']:.2f} s/epoch on {res['device']}; split {res['split']}")
    console.print(_table(f"test, {res['test']['users']} users", {cfg.model: res["test"]}))
    console.print(f"saved to {run}")


@app.command("eval")
def evaluate(
    run: Path = typer.Argument(..., help="CF run directory."),
    split: str = typer.Option("test", help="'test' or 'valid'."),
    device: str = typer.Option("cpu", help="auto, cpu, cuda or cuda:N."),
) -> None:
    """Recall/NDCG at 10/20/40 of a run's best weights on its own split."""
    from ctrlrec.cf.train import Evaluator, load_run
    from ctrlrec.errors import CtrlrecError

    if split not in ("test", "valid"):
        raise CtrlrecError(f"--split {split}: expected 'test' or 'valid'")
    cfg, data, model = load_run(run, device=device)
    res = Evaluator(data)(model, split)
    console.print(_table(f"{cfg.dataset} {cfg.split} {split}, {res['users']} users",
                         {f"{cfg.model} side={cfg.side}": res}))


@app.command()
def compare(
    dataset: str = typer.Option(..., help="Prepared dataset name or folder."),
    side: str = typer.Option("none,text", help="Comma-separated side settings: none, text, profiles "
                             "or profiles-LABEL (one per --profiles LABEL=RUN)."),
    profiles: str | None = typer.Option(None, help="Profiles build runs: RUN or comma-separated LABEL=RUN; "
                                        "'{split}' in RUN is replaced by each split's name."),
    split: str = typer.Option("random", help="Comma-separated splits."),
    models: str = typer.Option(_MODELS, help="Comma-separated models."),
    out: Path | None = typer.Option(None, help="Output folder (default runs/cf-compare-DATASET)."),
    lr: float = typer.Option(5e-3, help="Adam learning rate."),
    batch_size: int = typer.Option(2048, help="Triples per step."),
    epochs: int = typer.Option(100, help="Most epochs per run."),
    patience: int = typer.Option(5, help="Early-stopping patience (epochs)."),
    ssl_weight: float | None = typer.Option(None, help="SGL/SimGCL InfoNCE weight (default 0.1 / 0.2)."),
    ssl_warmup: int = typer.Option(0, help="SGL/SimGCL: epochs over which the InfoNCE weight ramps up."),
    seed: int = typer.Option(2024, help="Random seed (of the split, and of the runs without --seeds)."),
    seeds: str | None = typer.Option(None, help="Comma-separated training seeds: every run once per seed "
                                     "over the split of --seed; the table gives mean ± std."),
    device: str = typer.Option("auto", help="auto, cpu, cuda or cuda:N."),
    threads: int = typer.Option(0, help="CPU threads (0 = torch default)."),
    table_only: bool = typer.Option(False, help="Only tabulate the runs already finished in --out."),
) -> None:
    """Train every model with and without side embeddings; writes table.md and chart.png."""
    from ctrlrec.cf.compare import profile_runs, run_all, write_outputs
    from ctrlrec.cf.models import MODELS
    from ctrlrec.cf.splits import SPLITS

    runs = profile_runs(profiles)
    sides = _split_list(side, ("none", "text", "profiles", *runs), "side")
    splits = _split_list(split, SPLITS, "split")
    names = _split_list(models, tuple(MODELS), "models")
    out = out or Path("runs") / f"cf-compare-{Path(dataset).name}"
    base = _config(dataset=dataset, lr=lr, batch_size=batch_size, epochs=epochs,
                   patience=patience, ssl_weight=ssl_weight, ssl_warmup=ssl_warmup, seed=seed,
                   device=device, threads=threads)
    rows = run_all(base, names, sides, splits, out, log=console.print, table_only=table_only,
                   profiles=runs, seeds=_seed_list(seeds))
    write_outputs(rows, sides, out)
    console.print(f"table: {out / 'table.md'}  chart: {out / 'chart.png'}")
