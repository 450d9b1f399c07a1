"""The `ctrlrec` command: one Typer app, each sub-command a thin call into a stage.

Stages register their own sub-app here; heavy imports (torch, transformers) happen inside commands,
so `ctrlrec --help` stays fast. Errors a user can cause print one line and exit with status 2.
"""

from __future__ import annotations

import sys

import typer

from ctrlrec import __version__
from ctrlrec.errors import CtrlrecError, Interrupted, on_ctrl_c

app = typer.Typer(
    name="ctrlrec",
    help="Align large language models into controllable recommenders.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"ctrlrec {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(False, "--version", callback=_version, is_eager=True,
                                 help="Print the version and exit."),
) -> None:
    """Align large language models into controllable recommenders."""


def _register() -> None:
    from ctrlrec.data.cli import app as data_app

    app.add_typer(data_app, name="data", help="Fetch, prepare and inspect datasets.")
    # Later stages add themselves here, each from its own <stage>/cli.py.
    for module, name, help_text in _STAGES:
        try:
            mod = __import__(module, fromlist=["app", "register"])
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.startswith("ctrlrec"):
                continue
            raise
        if hasattr(mod, "register"):
            mod.register(app)
        else:
            app.add_typer(mod.app, name=name, help=help_text)


# (module, sub-command, help); a module with `register(app)` adds plain commands instead.
_STAGES: list[tuple[str, str, str]] = [
    ("ctrlrec.teacher.cli", "teacher", "Train, evaluate and query the SASRec teacher."),
    ("ctrlrec.scoring.cli", "score", "Score generated recommendation lists (spec: scoring.md)."),
    ("ctrlrec.tasks.cli", "tasks", "Build instruction samples (I0–I4) and fixed test sets."),
    ("ctrlrec.sft.cli", "sft", "Supervised fine-tuning (LoRA SFT) on instruction samples."),
    ("ctrlrec.llm.cli", "generate", "Generate recommendations with a model or an SFT run."),
    ("ctrlrec.serve.cli", "serve", "Serve recommendations over HTTP with a web page."),
    ("ctrlrec.rl.cli", "rl", "Reinforcement learning (PPO) with item- and list-level rewards."),
    ("ctrlrec.eval.cli", "eval", "Evaluate models and baselines on the fixed test sets; reports."),
    ("ctrlrec.pipeline.cli", "pipeline", "The main job: every stage from the data to the report."),
    ("ctrlrec.crs.cli", "crs", "Conversational recommendation: simulator, engagement reward model, PPO."),
    ("ctrlrec.cf.cli", "cf", "Collaborative-filtering models with text side embeddings; cold start."),
    ("ctrlrec.profiles.cli", "profiles", "LLM user/item profiles with collaborative signals (RecLM)."),
]

_register()


def main() -> None:
    on_ctrl_c()  # Ctrl-C raises Interrupted: a command may re-raise it saying what it kept
    try:
        app()
    except CtrlrecError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except (Interrupted, KeyboardInterrupt) as exc:
        typer.echo(str(exc) if isinstance(exc, Interrupted) else "interrupted", err=True)
        sys.exit(130)


if __name__ == "__main__":
    main()
