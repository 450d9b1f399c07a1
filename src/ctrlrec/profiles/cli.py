"""`ctrlrec profiles ...`: build, train, rl and show RecLM user/item profiles (docs/profiles.md)."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="LLM user and item profiles with collaborative signals (RecLM).", no_args_is_help=True)
console = Console()

_DATASET = typer.Option(..., help="Prepared dataset name or folder, e.g. ml-100k.")
_SPLIT = typer.Option("random", help="CF split whose training interactions the profiles may see.")
_SEED = typer.Option(2024, help="The CF run's seed (fixes the split).")
_COLD = typer.Option(0.2, help="cold-item split: share of items held out (as in the CF run).")
_CF_RUN = typer.Option(None, help="LightGCN run on the same split and seed, for neighbours "
                                  "(default: text-vector neighbours).")
_USERS = typer.Option(0, help="Only the first N users (0 = all).")
_THREADS = typer.Option(0, help="torch CPU threads (0 = torch default).")
_DEVICE = typer.Option("auto", help="auto, cpu or cuda.")
_CONSTRAIN = typer.Option(True, "--constrain/--free", help="Shape-constrained decoding (every profile "
                          "has the fixed shape; the model picks the words) or free text.")


def _cfg(**kw):
    from ctrlrec.profiles.config import ProfilesConfig

    cfg = ProfilesConfig(**{k: v for k, v in kw.items() if v is not None})
    cfg.check()
    return cfg


@app.command()
def build(
    dataset: str = _DATASET,
    model: str = typer.Option("smollm2-135m", help="Model name/folder, or a `profiles train`/`rl` run."),
    split: str = _SPLIT, seed: int = _SEED, cold_share: float = _COLD,
    cf_run: str | None = _CF_RUN,
    m: int = typer.Option(5, help="Neighbours per user."),
    prompt: str = typer.Option("auto", help="auto (the tuned run's own), single or collaborative."),
    users: int = _USERS,
    batch_size: int = typer.Option(16, help="Prompts per generate call."),
    max_new_tokens: int = typer.Option(48, help="Tokens per profile."),
    item_profiles: bool = typer.Option(True, help="Also write item profiles."),
    constrain: bool = _CONSTRAIN,
    out: Path | None = typer.Option(None, help="Run directory (default runs/profiles-DATASET-SPLIT-MODEL)."),
    device: str = _DEVICE, threads: int = _THREADS,
) -> None:
    """Write every user's (and item's) profile; resumable, a second build reuses the cache."""
    from ctrlrec.profiles.build import build as run_build

    cfg = _cfg(dataset=dataset, model=model, split=split, seed=seed, cold_share=cold_share, cf_run=cf_run,
               m=m, users=users, batch_size=batch_size, max_new_tokens=max_new_tokens,
               item_profiles=item_profiles, constrain=constrain, device=device, threads=threads)
    out = out or Path("runs") / f"profiles-{Path(dataset).name}-{split}-{Path(model).name}"
    info = run_build(cfg, out, prompt=prompt)
    rate = info["profiles_per_s"]
    console.print(f"{info['users']} user and {info['items']} item profiles ({info['prompt']} prompt), "
                  f"{info['valid_share']:.0%} in shape; "
                  + (f"{rate:.2f} profiles/s" if rate else "all from the cache") + f"; saved to {out}")


@app.command()
def train(
    dataset: str = _DATASET,
    model: str = typer.Option("smollm2-135m", help="Base model to tune."),
    split: str = _SPLIT, seed: int = _SEED, cold_share: float = _COLD,
    cf_run: str | None = _CF_RUN,
    teacher: str = typer.Option("self", help="self (best-of-n), a local model/run, or http(s)://HOST/v1."),
    teacher_model: str | None = typer.Option(None, help="Model name served at an endpoint teacher."),
    best_of: int = typer.Option(4, help="Samples per user for the self teacher."),
    stages: str = typer.Option("single,two-round", help="Comma-separated: single, two-round."),
    epochs: float = typer.Option(1.0, help="SFT epochs per stage."),
    eval_share: float = typer.Option(0.1, help="Users held out for round-2 accuracy."),
    users: int = _USERS, constrain: bool = _CONSTRAIN,
    out: Path | None = typer.Option(None, help="Run directory (default runs/profiles-train-DATASET-SPLIT)."),
    device: str = _DEVICE, threads: int = _THREADS,
) -> None:
    """Teacher profiles, single-round SFT, two-round SFT; round-2 accuracy before and after."""
    from ctrlrec.errors import CtrlrecError
    from ctrlrec.profiles.train import train as run_train

    chosen = tuple(s.strip() for s in stages.split(",") if s.strip())
    if not chosen or any(s not in ("single", "two-round") for s in chosen):
        raise CtrlrecError(f"--stages {stages}: expected a comma-separated list of single, two-round")
    cfg = _cfg(dataset=dataset, model=model, split=split, seed=seed, cold_share=cold_share, cf_run=cf_run,
               teacher=teacher, teacher_model=teacher_model, best_of=best_of, epochs=epochs,
               eval_share=eval_share, users=users, constrain=constrain, device=device, threads=threads)
    out = out or Path("runs") / f"profiles-train-{Path(dataset).name}-{split}"
    metrics = run_train(cfg, out, chosen)
    table = Table(title=f"round-2 accuracy, {metrics['held_out_users']} held-out users "
                        f"(teacher: {metrics['teacher']})")
    for col in ("model", "questions", "accuracy"):
        table.add_column(col)
    for name, r in metrics["round2"].items():
        table.add_row(name, str(r["questions"]), f"{r['accuracy']:.3f}")
    console.print(table)
    console.print(f"tuned runs: {', '.join(str(out / s) for s in chosen)}")


@app.command()
def rl(
    dataset: str = _DATASET,
    tuned: str = typer.Option(..., help="The tuned policy: a `profiles train` stage run "
                              "(e.g. RUN/two-round)."),
    train_run: Path = typer.Option(..., help="The `profiles train` run (its teacher.jsonl gives positives)."),
    model: str = typer.Option("smollm2-135m", help="Base model of the reward model."),
    split: str = _SPLIT, seed: int = _SEED, cold_share: float = _COLD,
    cf_run: str | None = _CF_RUN,
    steps: int = typer.Option(50, help="PPO steps."),
    kl_coef: float = typer.Option(0.1, help="KL penalty to the tuned policy."),
    prompts_per_step: int = typer.Option(8, help="Users per PPO step (2 sampled profiles each)."),
    ppo_epochs: int = typer.Option(4, help="PPO passes over each step's batch."),
    learning_rate: float = typer.Option(1e-5, help="PPO learning rate."),
    time_budget_min: float | None = typer.Option(None, help="Stop PPO (after a checkpoint) once this "
                                                 "many minutes have passed; the steps run are recorded."),
    users: int = _USERS,
    out: Path | None = typer.Option(None, help="Run directory (default runs/profiles-rl-DATASET-SPLIT)."),
    device: str = _DEVICE, threads: int = _THREADS,
) -> None:
    """Reward model (TRL RewardTrainer, LoRA + scalar head), then PPO with a KL penalty."""
    from ctrlrec.profiles.rl import refine

    cfg = _cfg(dataset=dataset, model=model, split=split, seed=seed, cold_share=cold_share, cf_run=cf_run,
               rl_steps=steps, kl_coef=kl_coef, users=users, device=device, threads=threads)
    out = out or Path("runs") / f"profiles-rl-{Path(dataset).name}-{split}"
    run = refine(cfg, tuned, train_run, out, prompts_per_step=prompts_per_step, ppo_epochs=ppo_epochs,
                 learning_rate=learning_rate, time_budget_min=time_budget_min)
    console.print(f"refined policy: {run / 'merged'}; build with `ctrlrec profiles build --model {run}`")


@app.command("reward-eval")
def reward_eval(
    run: Path = typer.Option(..., help="A finished `ctrlrec profiles rl` run."),
    train_run: Path | None = typer.Option(None, help="Its `profiles train` run (default: the manifest's)."),
    users: int | None = typer.Option(None, help="Held-out users among the first N (default: the run's)."),
) -> None:
    """Pair accuracy of a run's reward model on its training pairs and on held-out users' pairs."""
    from ctrlrec.profiles.rl import evaluate_reward

    acc = evaluate_reward(run, train_run, users)
    table = Table(title=f"reward model of {run}: chosen above rejected")
    for col in ("pairs of", "kind", "pairs", "accuracy", "mean margin"):
        table.add_column(col)
    for side, a in acc.items():
        for kind, r in [("all", a), *a["by_kind"].items()]:
            if r["pairs"]:
                table.add_row(side, kind, str(r["pairs"]), f"{r['accuracy']:.3f}", f"{r['margin']:.2f}")
    console.print(table)


@app.command()
def show(
    profiles: Path = typer.Option(..., help="A `ctrlrec profiles build` run."),
    user: int = typer.Option(..., help="User id."),
) -> None:
    """A user's profile beside the user's (training) history."""
    from ctrlrec.profiles.show import user_view

    view = user_view(profiles, user)
    table = Table(title=f"user {user} ({view['dataset']}, split {view['split']})", show_lines=True)
    table.add_column("history (most recent last)")
    table.add_column("profile")
    table.add_row("\n".join(view["history"]), view["profile"].replace("; ", ";\n"))
    console.print(table)
    console.print(f"neighbours ({view['source']}): {', '.join(map(str, view['neighbours'])) or 'none'}")
