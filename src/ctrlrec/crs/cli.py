"""`ctrlrec crs ...`: simulate, sft, rm train, rl, eval, and ReDial / SFT conversions (docs/crs.md)."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True,
                  help="Conversational recommendation aligned with implicit feedback (simulator, RM, PPO).")
rm_app = typer.Typer(no_args_is_help=True, help="The engagement reward model.")
app.add_typer(rm_app, name="rm")


def _threads(n: int) -> None:
    if n:
        import torch

        torch.set_num_threads(n)


def _sim(dataset: str, seed: int, k: int, turns: int, noise: float, leave_prob: float):
    from ctrlrec.crs.simulator import SimConfig, UserSimulator
    from ctrlrec.data import load

    return UserSimulator(load(dataset), SimConfig(k=k, max_turns=turns, noise=noise, leave_prob=leave_prob),
                         seed)


@app.command("simulate")
def simulate_cmd(
    dataset: str = typer.Option("ml-100k", help="Prepared dataset the simulated users come from."),
    n: int = typer.Option(500, "--n", help="Dialogues (training users, cycled)."),
    out: Path = typer.Option(Path("runs/crs/sim.jsonl"), "--out", help="Dialogues JSONL."),
    sft_out: Path = typer.Option(None, "--sft-out", help="Also write SFT samples here (JSONL)."),
    teacher: str = typer.Option("popularity", help="Teacher run for the guide's lists, or 'popularity'."),
    k: int = typer.Option(5), turns: int = typer.Option(5, help="Recommendation turns per dialogue (T)."),
    noise: float = typer.Option(0.05), leave_prob: float = typer.Option(0.3),
    hit_rate: float = typer.Option(0.5, help="Chance the guide slips in one held-out item per turn."),
    alternatives: int = typer.Option(1, help="Counterfactual lists per turn, for reward-model pairs."),
    seed: int = typer.Option(0),
) -> None:
    """Synthetic dialogues from the simulator with the guide recommender (and SFT samples)."""
    from ctrlrec.crs import dialogue, synth
    from ctrlrec.crs.baseline import TopK
    from ctrlrec.errors import CtrlrecError

    if n < 1 or alternatives < 0 or not 0 <= hit_rate <= 1:
        raise CtrlrecError("simulate: expected n >= 1, alternatives >= 0 and hit_rate in [0, 1]")
    sim = _sim(dataset, seed, k, turns, noise, leave_prob)
    ds = synth.simulate(sim, TopK(sim.ds, teacher), n, "train", hit_rate, alternatives)
    dialogue.write(out, ds)
    typer.echo(f"wrote {len(ds)} dialogues to {out}")
    if sft_out:
        _write_jsonl(sft_out, synth.sft_samples(ds, k))
        typer.echo(f"wrote SFT samples to {sft_out}")


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    from ctrlrec.atomic import write_jsonl

    write_jsonl(path, rows)


@app.command("sft-data")
def sft_data_cmd(dialogues: Path = typer.Argument(..., help="Dialogues JSONL."),
                 out: Path = typer.Option(..., "--out", help="SFT samples JSONL."),
                 k: int = typer.Option(5, help="List length named in the system line.")) -> None:
    """SFT samples ({"messages": [...]}, every recommender turn trained) from dialogues."""
    from ctrlrec.crs import dialogue, synth

    rows = synth.sft_samples(dialogue.read(dialogues), k)
    _write_jsonl(out, rows)
    typer.echo(f"wrote {len(rows)} samples to {out}")


@app.command("redial")
def redial_cmd(path: Path = typer.Argument(..., help="ReDial JSONL (train_data.jsonl / test_data.jsonl)."),
               out: Path = typer.Option(..., "--out", help="Dialogues JSONL.")) -> None:
    """Convert ReDial's published JSONL into the dialogue format."""
    from ctrlrec.atomic import write_json
    from ctrlrec.crs import dialogue, redial

    ds = redial.load(path)
    counts = redial.quirks(ds)
    dialogue.write(out, ds)
    write_json(Path(f"{out}.meta.json"), {"source": str(path), "dialogues": len(ds), "quirks": counts})
    typer.echo(f"wrote {len(ds)} dialogues to {out}")
    typer.echo("quirks: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in counts.items())
               + f" (per dialogue in meta.quirks; totals in {out}.meta.json)")


@app.command("sft")
def sft_cmd(train_file: Path = typer.Argument(..., help="SFT samples from `crs simulate --sft-out`."),
            model: str = typer.Option("smollm2-135m"), out: str = typer.Option("runs/crs-sft", "--out"),
            config: Path = typer.Option(None, "--config", help="TOML with SFTConfig fields."),
            max_steps: int = typer.Option(None, "--max-steps"),
            time_budget_min: float = typer.Option(None, "--time-budget"),
            fresh: bool = typer.Option(False, "--fresh")) -> None:
    """LoRA SFT on the recommender turns (the SFT stage on a dialogue file; no validation)."""
    from ctrlrec.sft.config import SFTConfig
    from ctrlrec.sft.trainer import train

    cfg = SFTConfig.from_toml(config, model=model, train_file=str(train_file), output_dir=out,
                              max_steps=max_steps, time_budget_min=time_budget_min)
    cfg.eval_every = 0
    typer.echo(f"run: {train(cfg, None, resume=not fresh)}")


@rm_app.command("train")
def rm_train_cmd(
    dialogues: list[Path] = typer.Argument(..., help="Dialogue JSONL files: simulated, ReDial-converted, "
                                                      "or the chat page's crs_feedback.jsonl."),
    model: str = typer.Option("smollm2-135m", help="Base LLM: name, folder or SFT run."),
    out: str = typer.Option("runs/crs-rm", "--out"),
    weights: str = typer.Option("", help="Label weights, e.g. "
                                             "accepted=1,sentiment=0.5,dwell=0.3,went_on=0.2"),
    steps: int = typer.Option(300), batch_pairs: int = typer.Option(8), max_length: int = typer.Option(384),
    learning_rate: float = typer.Option(2e-4), valid_share: float = typer.Option(0.2),
    seed: int = typer.Option(0), threads: int = typer.Option(0),
    save_every: int = typer.Option(50, help="Steps between checkpoints; a rerun resumes from the last."),
    annotate: str = typer.Option("", help="Dataset whose catalog categories the model reads after each "
                                          "recommended title, e.g. ml-100k (default: titles only)."),
) -> None:
    """Train R_phi with the pairwise ranking loss; prints the held-out pairwise accuracy. A rerun into
    the same --out resumes (a larger --steps trains longer)."""
    from ctrlrec.crs.reward_model import RMConfig, train

    cfg = RMConfig(model=model, output_dir=out, weights=weights, steps=steps, batch_pairs=batch_pairs,
                   max_length=max_length, learning_rate=learning_rate, valid_share=valid_share, seed=seed,
                   threads=threads, save_every=save_every, annotate=annotate)
    run, m = train(cfg, [str(d) for d in dialogues])
    typer.echo(f"run: {run}  held-out pairwise accuracy {m['valid_acc']:.3f} "
               f"(before training {m['valid_acc_before']:.3f}, {m['valid_pairs']} pairs)")


@app.command("rl")
def rl_cmd(
    sft: str = typer.Option(None, "--sft", help="SFT run (the start and the reference policy)."),
    rm: str = typer.Option(None, "--rm", help="Reward-model run, or 'simulator' (oracle label)."),
    config: Path = typer.Option(None, "--config", help="TOML with CRSRLConfig fields (top level or [crs])."),
    dataset: str = typer.Option(None), out: str = typer.Option(None, "--out"),
    steps: int = typer.Option(None), episodes: int = typer.Option(None, help="Episodes per PPO step."),
    turns: int = typer.Option(None, help="T: turns per episode."),
    format_weight: float = typer.Option(None, help="Weight of scoring's formatting reward."),
    time_budget_min: float = typer.Option(None, "--time-budget"),
    threads: int = typer.Option(None), fresh: bool = typer.Option(False, "--fresh"),
) -> None:
    """Multi-turn PPO against the simulator with the reward model; resumable."""
    from ctrlrec.crs.episodes import CRSRLConfig, train

    cfg = CRSRLConfig.from_toml(config, sft=sft, rm=rm, dataset=dataset, output_dir=out, steps=steps,
                                prompts_per_step=episodes, max_turns=turns, format_weight=format_weight,
                                time_budget_min=time_budget_min, threads=threads)
    typer.echo(f"run: {train(cfg, resume=not fresh)}")


@app.command("eval")
def eval_cmd(
    model: list[str] = typer.Option([], "--model", help="Chat model / SFT / RL run; repeat for several; "
                                                         "LABEL=PATH names the row."),
    teacher: str = typer.Option("popularity", help="Teacher baseline: SASRec run, 'popularity' or 'none'."),
    dataset: str = typer.Option("ml-100k"), n: int = typer.Option(200, "--n", help="Seeded dialogues."),
    out: Path = typer.Option(Path("runs/crs-eval"), "--out"),
    k: int = typer.Option(5), turns: int = typer.Option(5), noise: float = typer.Option(0.05),
    leave_prob: float = typer.Option(0.3), mode: str = typer.Option("free", help="free or catalog decoding."),
    max_new_tokens: int = typer.Option(96, help="Answer length cap (5 titles are ~60 tokens)."),
    batch_size: int = typer.Option(16, help="Conversations per generate call."),
    seed: int = typer.Option(0), threads: int = typer.Option(0), device: str = typer.Option("auto"),
) -> None:
    """Accuracy, coherence and satisfaction of each recommender on the same seeded dialogues."""
    from ctrlrec.atomic import atomic_file
    from ctrlrec.crs import evaluate as ev
    from ctrlrec.crs.baseline import TopK
    from ctrlrec.errors import CtrlrecError
    from ctrlrec.llm.device import choose
    from ctrlrec.llm.models import load_any

    if mode not in ("free", "catalog"):
        raise CtrlrecError(f"mode {mode!r}: expected free or catalog")
    _threads(threads)
    sim = _sim(dataset, seed, k, turns, noise, leave_prob)
    catalog = ev.sim_catalog(sim)
    recs = []
    if teacher != "none":
        recs.append(("popularity" if teacher == "popularity" else "teacher-sasrec",
                     lambda: ev.BaselineRecommender(TopK(sim.ds, teacher), sim.titles, k)))
    for spec in model:
        label, _, path = spec.rpartition("=") if "=" in spec else (Path(spec).name, "", spec)

        def make(path=path, label=label):
            m, tok = load_any(path, choose(device, "auto"))
            return ev.ChatRecommender(m, tok, catalog, k, mode, max_new_tokens, batch_size, name=label)

        recs.append((label, make))
    if not recs:
        raise CtrlrecError("eval: expected at least one --model or a teacher baseline")
    summaries = {}
    for label, make in recs:
        rec = make()
        eps, recs_ = ev.run_episodes(sim, rec, n)
        summaries[label] = ev.metrics(sim, eps, recs_)
        ev.save(out / label, label, sim, eps, summaries[label])
    text = ev.table(summaries)
    with atomic_file(out / "table.md") as fh:
        fh.write(text)
    typer.echo(text)

