"""`ctrlrec score --catalog CATALOG CASES.jsonl`: spec §6, JSONL in, JSONL out.

Output is buffered and written only when every line has been read: by default the first bad line
stops the command with nothing written; with --skip-bad bad lines are reported and left out.
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from tqdm import tqdm

from ctrlrec.atomic import atomic_file
from ctrlrec.errors import CtrlrecError, InputFileError
from ctrlrec.scoring.intents import kind_label
from ctrlrec.scoring.io import CATALOG_HELP, load_catalog_file, read_cases
from ctrlrec.scoring.metrics import METRICS
from ctrlrec.scoring.score import score_batch

BATCH = 4096


def _dumps(obj) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(", ", ": "))


def _read_lines(cases: str) -> tuple[list[str], str]:
    if cases == "-":
        return sys.stdin.read().splitlines(), "<stdin>"
    path = Path(cases)
    try:
        return path.read_text(encoding="utf-8").splitlines(), str(path)
    except (OSError, UnicodeDecodeError) as exc:
        raise InputFileError(path, "a readable UTF-8 JSONL case file (or - for stdin)", str(exc)) \
            from exc


def score_command(
    cases: Annotated[str, typer.Argument(
        metavar="CASES.jsonl", help="Case file, one JSON object per line; - reads standard input.")],
    catalog: Annotated[str, typer.Option("--catalog", help=f"The catalog: {CATALOG_HELP}.")],
    output: Annotated[Path | None, typer.Option(
        "--output", "-o", help="Write the scored JSONL here (atomically) instead of stdout.")] = None,
    summary: Annotated[bool, typer.Option(
        "--summary", help="Print averaged metrics per intent kind as a table (to stderr when the "
                          "JSONL goes to stdout).")] = False,
    skip_bad: Annotated[bool, typer.Option(
        "--skip-bad", help="Report bad lines and go on, instead of stopping at the first.")] = False,
) -> None:
    """Score generated recommendation lists: parse, ground, legality, metrics and rewards."""
    cat = load_catalog_file(catalog)
    lines, source = _read_lines(cases)
    out: list[str] = []
    groups: dict[str, list[dict]] = defaultdict(list)
    bad = 0
    pending = []
    bar = tqdm(total=len(lines), unit="line", disable=None, file=sys.stderr, desc="scoring")

    def flush() -> None:
        res = score_batch(cat, pending)
        for i, case in enumerate(pending):
            obj = res.to_json(i)
            out.append(_dumps(obj))
            groups[kind_label(case.intents)].append({**obj["metrics"], "reward": obj["list_reward"]})
        pending.clear()

    for n, case in read_cases(lines, cat, source):
        bar.update(n - bar.n)
        if isinstance(case, CtrlrecError):
            if not skip_bad:
                bar.close()
                raise case
            bad += 1
            typer.echo(f"skipped: {case}", err=True)
            continue
        pending.append(case)
        if len(pending) >= BATCH:
            flush()
    if pending:
        flush()
    bar.update(len(lines) - bar.n)
    bar.close()
    text = "".join(line + "\n" for line in out)
    if output is not None:
        with atomic_file(output) as fh:
            fh.write(text)
    else:
        sys.stdout.write(text)
        sys.stdout.flush()
    if bad:
        typer.echo(f"{bad} bad line(s) skipped; {len(out)} scored", err=True)
    if summary:
        _print_summary(groups, to_stderr=output is None)


def _mean(rows: list[dict], name: str, part: int | None = None) -> float | None:
    vals = [(r["parts"][part] if part is not None else r).get(name) for r in rows]
    vals = [v for v in vals if v is not None]
    return float(np.mean(vals)) if vals else None


def _print_summary(groups: dict[str, list[dict]], to_stderr: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="ctrlrec score: averages per intent kind (formatting and TCP/CPA in %)")
    for col in ("intent", "lists", *METRICS, "R_list"):
        table.add_column(col, justify="left" if col == "intent" else "right")
    pct = {"TCP", "CPA", "RepeatItem", "NonExist", "InHistory", "CorrectCount"}

    def fmt(name: str, v: float | None) -> str:
        if v is None:
            return "-"
        return f"{100 * v:.2f}" if name in pct else f"{v:.4f}"

    for kind in sorted(groups):
        rows = groups[kind]
        cells = []
        for name in METRICS:
            if name in ("TCP", "CPA") and "parts" in rows[0]:
                cells.append(" / ".join(fmt(name, _mean(rows, name, j))
                                        for j in range(len(rows[0]["parts"]))))
            else:
                cells.append(fmt(name, _mean(rows, name)))
        table.add_row(kind, str(len(rows)), *cells, fmt("R_list", _mean(rows, "reward")))
    Console(stderr=to_stderr, width=200).print(table)


def register(app: typer.Typer) -> None:
    """Add the plain `score` command to the root app (called by ctrlrec.cli)."""
    app.command("score")(score_command)
