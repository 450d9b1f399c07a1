"""The main job: data -> teacher -> tasks -> SFT -> RL -> evaluation -> report, resumable.

Each stage has a fingerprint: a hash of its resolved config and of the fingerprints of the stages whose
artifacts it reads. `pipeline.json` records, per stage, the fingerprint it last ran with, its status,
attempts and seconds. A stage is skipped when it is recorded done with the current fingerprint and its
artifacts are complete; a stage whose fingerprint changed starts again from nothing (and so, through
their fingerprints, do the stages after it); a stage that was interrupted resumes with its own resume
(the teacher's checkpoint, SFT's and RL's latest checkpoints, eval's appended results).
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path

from rich.console import Console

from ctrlrec import paths
from ctrlrec.atomic import write_json
from ctrlrec.manifest import manifest
from ctrlrec.pipeline.config import PipelineConfig
from ctrlrec.pipeline.stages import INPUTS, Stages, plain

console = Console(stderr=True)


def fingerprints(cfg: PipelineConfig) -> dict[str, str]:
    """stage -> sha256 of its config and its inputs' fingerprints (stages not run are left out)."""
    conf = cfg.stage_configs()
    conf["tasks"] = [*conf["tasks"], conf.pop("testset")]
    out: dict[str, str] = {}
    for name in cfg.stages:
        body: dict = {"stage": name, "config": plain(conf[name])}
        if name == "data" and cfg.data.source is None:  # a dataset prepared outside: hash what it is
            meta = paths.home() / "datasets" / cfg.dataset / "meta.json"
            body["meta_sha256"] = hashlib.sha256(meta.read_bytes()).hexdigest() if meta.is_file() else None
        if name == "sft" and cfg.launch.accelerate:  # processes change the effective batch
            body["launch"] = plain(cfg.launch)
        if name == "eval":
            body["config"]["models"] = Stages(cfg, progress=False).eval_models()
        body["inputs"] = {i: out[i] for i in INPUTS[name] if i in out}
        out[name] = hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return out


def _load(path: Path) -> dict:
    return json.loads(path.read_text()) if path.is_file() else {}


def run_pipeline(cfg: PipelineConfig, progress: bool = True, redo: tuple[str, ...] = ()) -> dict:
    """Run every stage that is not complete for the current config; return the manifest."""
    root = cfg.root()
    root.mkdir(parents=True, exist_ok=True)
    mpath = root / "pipeline.json"
    old = _load(mpath)
    records: dict = old.get("stages", {})
    stages = Stages(cfg, progress)
    prints = fingerprints(cfg)

    def save() -> None:
        write_json(mpath, manifest("pipeline", plain(cfg), None, run_dir=str(root),
                                   config_file=cfg.source_file, stages=records))

    for i, name in enumerate(cfg.stages, 1):
        fp = prints[name]
        rec = records.get(name, {})
        head = f"[{i}/{len(cfg.stages)}] {name}"
        if name not in redo and rec.get("status") == "done" and rec.get("fingerprint") == fp \
                and stages.complete(name):
            console.print(f"[dim]{head}: complete ({rec.get('seconds', 0):.0f} s), skipped[/dim]")
            continue
        if rec.get("fingerprint") not in (None, fp) or name in redo:
            console.print(f"{head}: config or inputs changed, starting it again")
            stages.reset(name)
            rec = {}
        resumed = rec.get("status") in ("running", "failed")
        console.rule(f"{head}{' (resuming)' if resumed else ''}")
        rec.update(fingerprint=fp, status="running", attempts=rec.get("attempts", 0) + 1,
                   started=time.strftime("%Y-%m-%dT%H:%M:%S%z"))
        records[name] = rec
        save()
        t0 = time.perf_counter()
        try:
            result = stages.run(name)
        except BaseException as exc:
            rec.update(status="failed", error=f"{type(exc).__name__}: {exc}"[:500],
                       seconds=rec.get("seconds", 0.0) + time.perf_counter() - t0)
            save()
            raise
        rec.pop("error", None)
        rec.update(status="done", seconds=round(rec.get("seconds", 0.0) + time.perf_counter() - t0, 1),
                   finished=time.strftime("%Y-%m-%dT%H:%M:%S%z"), result=plain(result))
        save()
    return _load(mpath)
