"""`ctrlrec eval MODEL --dataset NAME` and `ctrlrec report RUN... --out DIR`."""

from __future__ import annotations

from pathlib import Path

import typer

from ctrlrec.errors import CtrlrecError

DECODING = ("free", "catalog", "guaranteed")  # see ctrlrec.llm.decoding


def _tasks(text: str | None) -> tuple[str, ...]:
    from ctrlrec.tasks.testsets import TEST_SETS

    if not text:
        return TEST_SETS
    return tuple(t.strip() for t in text.split(",") if t.strip())


def eval_cmd(
    model: str = typer.Argument(..., help="popularity, teacher:RUN, oracle:popularity, oracle:RUN, "
                                "or a chat model (registry name, model folder, adapter, SFT run)."),
    dataset: str = typer.Option(..., "--dataset", help="A prepared dataset (its catalog grounds titles)."),
    testsets: Path = typer.Option(None, "--testsets", help="Folder from `ctrlrec tasks testset` "
                                  "(default $CTRLREC_HOME/tasks/DATASET)."),
    tasks: str = typer.Option(None, "--tasks", help="Comma-separated test sets (default: all)."),
    limit: int = typer.Option(None, "--limit", help="Only the first N cases of each set."),
    out: Path = typer.Option(None, "--out", help="Evaluation folder (default runs/DATASET/eval/LABEL)."),
    label: str = typer.Option(None, "--label", help="Row name in reports (default: the model)."),
    split: str = typer.Option("test", "--split", help="test or valid."),
    no_plain: bool = typer.Option(False, "--no-plain", help="Skip the runs without the control sentence."),
    backend: str = typer.Option("auto", "--backend", help="auto (vLLM on a GPU if installed), hf or vllm."),
    prompting: str = typer.Option("paper", "--prompting", help="paper (history only), grounded (the "
                                  "case's candidate pool listed; decoding stays in it) or shuffled "
                                  "(the pool in a random order: the permutation test)."),
    guidance: float = typer.Option(0.0, "--guidance", help="Teacher-guided decoding weight (catalog and "
                                   "guaranteed decoding; 0 = the model alone)."),
    answer: str = typer.Option("auto", "--answer", help="The model's answer lines: titles, tagged "
                               "('[Comedy] 'Title'', the grounded mode's tagged format) or auto (the "
                               "test sets' [pool] answer in the grounded mode, else titles)."),
    decoding: str = typer.Option("free", "--decoding", help="free (greedy, unconstrained), catalog "
                                 "(only catalog titles) or guaranteed (catalog + the intent enforced)."),
    precision: str = typer.Option("auto", "--precision", help="auto, fp32 or bf16 (chat models)."),
    batch_size: int = typer.Option(16, "--batch-size", help="Prompts per forward pass."),
    max_new_tokens: int = typer.Option(320, "--max-new-tokens", help="Generation length limit."),
    step: int = typer.Option(64, "--step", help="Cases per harness step (one append per step)."),
) -> None:
    """Answer every case of the fixed test sets, score, write JSONL + summary.json; resumes."""
    from ctrlrec.data import load
    from ctrlrec.eval.factory import make_recommender
    from ctrlrec.eval.harness import EvalConfig, run_eval
    from ctrlrec.llm.generate import GenerationConfig
    from ctrlrec.scoring import Catalog

    if decoding not in DECODING:
        raise CtrlrecError(f"--decoding {decoding}: expected one of {', '.join(DECODING)}")
    cfg = EvalConfig(tasks=_tasks(tasks), limit=limit, batch_size=step, plain=not no_plain, split=split)
    cfg.check()
    ds = load(dataset)
    gen = GenerationConfig(max_new_tokens=max_new_tokens, batch_size=batch_size)
    from ctrlrec import paths

    testsets = testsets or paths.home() / "tasks" / dataset
    answer = _answer(answer, testsets, prompting)
    rec = make_recommender(model, ds, gen, backend, label, precision, decoding, prompting=prompting,
                           guidance=guidance, answer=answer)
    out = out or Path("runs") / dataset / "eval" / _slug(rec.name)
    summary = run_eval(rec, testsets, Catalog.from_frame(ds.catalog), out, cfg, dataset)
    _print(summary, out)


def _answer(answer: str, testsets: Path, prompting: str) -> str:
    """--answer auto: the answer format the test sets' pool config names (grounded prompts only)."""
    if answer not in ("auto", "titles", "tagged"):
        raise CtrlrecError(f"--answer {answer}: expected auto, titles or tagged")
    if answer != "auto":
        return answer
    if prompting == "paper":
        return "titles"
    import json

    manifest = testsets / "testsets_manifest.json"
    pool = (json.loads(manifest.read_text()).get("pool") or {}) if manifest.is_file() else {}
    return pool.get("answer", "titles") if pool.get("mode") == "grounded" else "titles"


def _slug(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in Path(name).name or name)


def _print(summary: dict, out: Path) -> None:
    from rich.console import Console
    from rich.table import Table

    from ctrlrec.eval.tables import fmt

    cols = ("HR", "NDCG", "TCP", "CPA", "CorrectCount", "NonExist")
    t = Table("set", "variant", "n", *cols)
    for name, entry in summary["sets"].items():
        for variant in ("control", "plain"):
            v = entry.get(variant)
            if v:
                t.add_row(name, variant, str(v["n"]), *(fmt(c, v["metrics"].get(c)) for c in cols))
    con = Console()
    con.print(t)
    tm = summary.get("timing", {})
    if tm.get("cases"):
        con.print(f"{int(tm['cases'])} cases in {tm['total_s']:.1f} s "
                  f"(generation {tm['generate_s']:.1f} s); results in {out}")
    else:
        con.print(f"nothing left to answer; summary in {out / 'summary.json'}")


def report_cmd(
    runs: list[Path] = typer.Argument(..., help="Evaluation folders, in row order."),
    out: Path = typer.Option(..., "--out", help="Folder for report.md, report.html and the PNGs."),
    title: str = typer.Option("ctrlrec evaluation", "--title", help="Page title."),
    no_reference: bool = typer.Option(False, "--no-reference", help="Leave out the paper's rows."),
) -> None:
    """Paper-style tables, figures, Markdown and a self-contained HTML page."""
    from ctrlrec.eval.report import write_report

    paths = write_report(runs, out, title, reference=not no_reference)
    typer.echo(f"wrote {paths['markdown']} and {paths['html']}")


def register(app: typer.Typer) -> None:
    app.command("eval")(eval_cmd)
    app.command("report")(report_cmd)
