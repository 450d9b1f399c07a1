"""`ctrlrec pipeline --config FILE`: the main job, every stage from the data to the report."""

from __future__ import annotations

from pathlib import Path

import typer


def pipeline_cmd(
    config: Path = typer.Option(..., "--config",
                                help="Pipeline TOML (see configs/, e.g. ml-100k-quick.toml)."),
    run_dir: str = typer.Option(None, "--run-dir", help="Run directory (default runs/pipeline-NAME)."),
    redo: list[str] = typer.Option([], "--redo", help="Run this stage again even if complete (repeatable)."),
    status: bool = typer.Option(False, "--status", help="Only show what is done and what is left."),
) -> None:
    """Run data -> teacher -> tasks -> sft -> rl -> eval -> report; complete stages are skipped and an
    interrupted one resumes, so the same command continues a killed run."""
    from rich.console import Console
    from rich.table import Table

    from ctrlrec.errors import CtrlrecError
    from ctrlrec.pipeline.config import STAGES, PipelineConfig
    from ctrlrec.pipeline.runner import fingerprints, run_pipeline
    from ctrlrec.pipeline.stages import Stages

    cfg = PipelineConfig.from_toml(config, run_dir=run_dir)
    bad = [s for s in redo if s not in STAGES]
    if bad:
        raise CtrlrecError(f"--redo {bad}: expected stages among {', '.join(STAGES)}")
    con = Console()
    if status:
        import json

        mpath = cfg.root() / "pipeline.json"
        recs = json.loads(mpath.read_text()).get("stages", {}) if mpath.is_file() else {}
        fps, stages = fingerprints(cfg), Stages(cfg, progress=False)
        t = Table("stage", "status", "seconds", "attempts")
        for name in cfg.stages:
            r = recs.get(name, {})
            st = r.get("status", "not started")
            if r and r.get("fingerprint") != fps[name]:
                st = f"{st}, config changed since: will start again"
            elif st == "done" and not stages.complete(name):
                st = "done, artifacts missing: will run again"
            t.add_row(name, st, f"{r.get('seconds', 0):.0f}", str(r.get("attempts", 0)))
        con.print(t)
        return
    mf = run_pipeline(cfg, redo=tuple(redo))
    t = Table("stage", "status", "seconds", "attempts", title=f"pipeline {cfg.name}")
    for name in cfg.stages:
        r = mf["stages"].get(name, {})
        t.add_row(name, r.get("status", "-"), f"{r.get('seconds', 0):.0f}", str(r.get("attempts", 0)))
    con.print(t)
    root = cfg.root()
    if "report" in cfg.stages:
        con.print(f"report: {root / 'report' / 'report.html'} (and report.md)")
    model = next((root / s for s in ("rl", "sft") if s in cfg.stages), None)
    if model is not None:
        con.print(f"serve it: ctrlrec serve {model} --dataset {cfg.dataset}   (then open http://127.0.0.1:8000)")


def register(app: typer.Typer) -> None:
    app.command("pipeline")(pipeline_cmd)
