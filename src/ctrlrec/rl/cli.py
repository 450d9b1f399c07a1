"""`ctrlrec rl ...`: train with PPO from an SFT run (resumable), and plot a run's curves."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True,
                  help="Reinforcement learning (PPO) with item- and list-level rewards.")


@app.command("train")
def train_cmd(
    sft: str = typer.Option(None, "--sft",
                            help="SFT run folder (LoRA adapter or merged model) or a model name."),
    config: Path = typer.Option(None, "--config",
                                help="TOML file with PPOConfig fields (top level or [rl])."),
    dataset: str = typer.Option(None, "--dataset", help="Prepared dataset (default ml-100k)."),
    teacher: str = typer.Option(None, "--teacher", help="Teacher run folder, or 'popularity'."),
    output_dir: str = typer.Option(None, "--out", help="Run directory (default runs/rl-DATASET)."),
    steps: int = typer.Option(None, "--steps", help="PPO steps (rollout + update)."),
    time_budget_min: float = typer.Option(None, "--time-budget", help="Stop after this many minutes."),
    seed: int = typer.Option(None, "--seed", help="Seed of the prompt draw, sampling and shuffles."),
    no_item_reward: bool = typer.Option(False, "--no-item-reward",
                                        help="Ablation: list-level reward only (the paper's v3)."),
    fresh: bool = typer.Option(False, "--fresh",
                               help="Start over instead of resuming from the newest checkpoint."),
) -> None:
    """PPO from an SFT policy; resumes from the run's newest checkpoint after a kill."""
    from ctrlrec.rl.config import PPOConfig
    from ctrlrec.rl.trainer import train

    cfg = PPOConfig.from_toml(config, sft=sft, dataset=dataset, teacher=teacher, output_dir=output_dir,
                              steps=steps, time_budget_min=time_budget_min, seed=seed,
                              item_reward=False if no_item_reward else None)
    run = train(cfg, resume=not fresh)
    typer.echo(f"run: {run}")


@app.command("plot")
def plot_cmd(
    run: Path = typer.Argument(..., help="RL run directory (holds metrics.csv)."),
    out: Path = typer.Option(None, "--out", help="PNG file (default RUN/curves.png)."),
    smooth: int = typer.Option(1, "--smooth", help="Moving mean over this many steps."),
) -> None:
    """Draw rewards, KL, entropy, clip fraction, value loss, compliance and formatting errors."""
    from ctrlrec.rl.plot import plot

    typer.echo(f"wrote {plot(run, out, max(1, smooth))}")
