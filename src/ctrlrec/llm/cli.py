"""`ctrlrec generate RUN --user U ...`: recommendations from a model, an adapter or an SFT run."""

from __future__ import annotations

from pathlib import Path

import typer

from ctrlrec.errors import CtrlrecError


def generate_cmd(
    model: str = typer.Argument(..., help="SFT run folder, adapter folder, model folder or registry name."),
    dataset: str = typer.Option("ml-100k", "--dataset", help="Dataset the user ids and titles come from."),
    users: list[int] = typer.Option(None, "--user", help="User id (repeatable); history = their last items."),
    intent: str = typer.Option("I0", "--intent", help="Intent kind: I0, I1+, I1-, I2<=, I2~, I2>=, I3."),
    category: str = typer.Option(None, "--category", help="The intent's category C."),
    proportion: float = typer.Option(None, "--proportion", help="The share m of an I2 intent."),
    k: int = typer.Option(10, "--k", help="Number of items to recommend."),
    cases: Path = typer.Option(None, "--cases", help="JSONL of samples to answer instead of --user."),
    sample: bool = typer.Option(False, "--sample", help="Sample (temperature/top-p) instead of greedy."),
    temperature: float = typer.Option(0.7),
    top_p: float = typer.Option(1.0),
    seed: int = typer.Option(0),
    max_new_tokens: int = typer.Option(320),
    batch_size: int = typer.Option(16),
) -> None:
    """Batched generation with a KV cache, greedy by default, stopping at the end of turn."""
    from ctrlrec.llm.generate import GenerationConfig, generate
    from ctrlrec.llm.models import load_any

    if cases is not None:
        from ctrlrec.jsonl import read_jsonl

        prompts = read_jsonl(cases)
    else:
        if not users:
            raise CtrlrecError("give --user U (repeatable) or --cases FILE")
        if not 1 <= k <= 50:
            raise CtrlrecError(f"k = {k}: expected 1..50")
        import random

        from ctrlrec import intents as wording
        from ctrlrec.data import load
        from ctrlrec.scoring.intents import Intent

        ds = load(dataset)
        the_intent = Intent(intent, category, proportion)
        if category is not None and category not in ds.categories:
            raise CtrlrecError(f"category '{category}' is not in {dataset}; expected one of "
                               f"{', '.join(ds.categories)}")
        control = wording.render_intents((the_intent,), k, random.Random(seed))
        titles = ds.titles()
        prompts = []
        for u in users:
            if not 0 <= u < ds.n_users:
                raise CtrlrecError(f"user {u}: expected an id in 0..{ds.n_users - 1} of {dataset}")
            hist = [titles[i] for i in ds.sequences[u][-10:]] if intent != "I3" else None
            prompts.append(wording.messages(wording.user_prompt(k, hist, control)))
    cfg = GenerationConfig(
        max_new_tokens=max_new_tokens,
        do_sample=sample,
        temperature=temperature,
        top_p=top_p,
        batch_size=batch_size,
        seed=seed,
    )
    m, tok = load_any(model)
    for i, text in enumerate(generate(m, tok, prompts, cfg)):
        head = f"user {users[i]}" if cases is None else f"case {i}"
        typer.echo(f"== {head}\n{text}\n")


def model_prepare_cmd(
    name: str = typer.Argument("smollm2-135m", help="Registry name of a bundled model."),
    force: bool = typer.Option(False, "--force", help="Convert again even if the folder exists."),
) -> None:
    """Convert a bundled model (GGUF inside a pip package) into a cached safetensors folder, offline."""
    from ctrlrec.llm.models import REGISTRY, convert_bundled

    if name not in REGISTRY:
        raise CtrlrecError(f"model '{name}': expected a bundled model ({', '.join(REGISTRY)})")
    typer.echo(f"{name}: {convert_bundled(name, force=force)}")


def register(app: typer.Typer) -> None:
    app.command("generate")(generate_cmd)
    app.command("model-prepare")(model_prepare_cmd)
