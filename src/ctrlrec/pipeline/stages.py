"""The pipeline's stages: where each one writes inside the run directory, when it is complete, and how
it runs (or resumes) through the stage's own Python API, the same code its CLI command calls.

Layout of a pipeline run directory:
  pipeline.json   the manifest: config, versions, and per stage its fingerprint, status, seconds
  teacher/        `ctrlrec teacher train` run
  tasks/          train.jsonl, test/, valid/, valid.jsonl (`ctrlrec tasks build` + `testset`)
  sft/            `ctrlrec sft train` run (LoRA adapter, checkpoints)
  rl/             `ctrlrec rl train` run (merged/ is the final policy)
  eval/<model>/   `ctrlrec eval` folders, one per report row
  report/         `ctrlrec report` output (report.md, report.html, PNGs)
The dataset itself lives where every stage finds it: $CTRLREC_HOME/datasets/<dataset>.
"""

from __future__ import annotations

import shutil
from dataclasses import asdict, is_dataclass, replace
from pathlib import Path

from ctrlrec import paths

# stage -> the stages whose artifacts it reads (its fingerprint includes theirs)
INPUTS = {"data": (), "teacher": ("data",), "tasks": ("data", "teacher"), "sft": ("tasks",),
          "rl": ("sft", "teacher", "data"), "eval": ("teacher", "tasks", "sft", "rl"),
          "report": ("eval",)}
LABELS = {"popularity": "popularity", "teacher": "SASRec teacher", "oracle": "oracle controller",
          "oracle-keywords": "oracle controller, keyword parser", "pool-copy": "pool: teacher order copied",
          "pool-random": "pool: random k", "pool-oracle": "pool: oracle controller",
          "base": "zero-shot", "sft": "ctrlrec SFT", "rl": "ctrlrec SFT+RL"}
LLM_MODELS = ("base", "sft", "rl")


def plain(obj):
    """A JSON-able view of a stage config (dataclasses, tuples) for fingerprints and the manifest."""
    if is_dataclass(obj):
        return plain(asdict(obj))
    if isinstance(obj, dict):
        return {str(k): plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [plain(v) for v in obj]
    return obj


class Stages:
    """Runs one stage at a time for a PipelineConfig; `complete(name)` says whether its artifacts exist."""

    def __init__(self, cfg, progress: bool = True):
        self.cfg, self.root, self.progress = cfg, cfg.root(), progress
        self.conf = cfg.stage_configs()

    def dir(self, name: str) -> Path:
        return self.root / name

    def eval_models(self) -> list[str]:
        """The report's rows whose stages are part of this pipeline (chat models' variants after them)."""
        need = {"teacher": "teacher", "oracle": "teacher", "oracle-keywords": "teacher", "sft": "sft",
                "rl": "rl"}
        out = []
        for m in self.cfg.eval.models:
            if need.get(m) is not None and need[m] not in self.cfg.stages:
                continue
            out.append(m)
            if m in self.cfg.eval.variant_models:
                out += [f"{m}@{v}" for v in self.cfg.eval.variants]
        return out

    def eval_row(self, row: str) -> tuple[str, str, str, float, str]:
        """(model, decoding, prompting, guidance, label) of one report row ("sft@guaranteed+teacher")."""
        from ctrlrec.pipeline.config import parse_variant

        sec, mode = self.conf["eval"], self.conf["pool"].mode
        m, _, variant = row.partition("@")
        label = LABELS[m] + (f" {Path(self.conf['sft'].model).name}" if m == "base" else "")
        if m not in LLM_MODELS:
            return m, "free", mode, 0.0, label
        if not variant:
            return m, sec.decoding, mode, 0.0, f"{label}, {mode}, {sec.decoding}"
        decoding, guided, prompting = parse_variant(variant)
        prompting = prompting or mode
        weight = sec.guidance if guided else 0.0
        return m, decoding, prompting, weight, f"{label}, {prompting}, {decoding}" + (
            f" + teacher ({weight:g})" if guided else "")

    # -- completeness --------------------------------------------------------------------------------
    def complete(self, name: str) -> bool:
        d = self.dir(name)
        checks = {
            "data": lambda: (paths.home() / "datasets" / self.cfg.dataset / "meta.json").is_file(),
            "teacher": lambda: (d / "metrics.json").is_file(),
            "tasks": lambda: ((d / "train_manifest.json").is_file()
                              and (d / "testsets_manifest.json").is_file()),
            "sft": lambda: _status(d / "manifest.json") == "done",
            "rl": lambda: _status(d / "manifest.json") in ("done", "stopped (time budget)")
            and (d / "merged").is_dir(),
            "eval": lambda: all(_eval_complete(d / m) for m in self.eval_models()),
            "report": lambda: (d / "report.html").is_file(),
        }
        return checks[name]()

    def reset(self, name: str) -> None:
        """Remove a stage's old artifacts (its config or inputs changed)."""
        if name != "data" and self.dir(name).exists():
            shutil.rmtree(self.dir(name))

    # -- running -------------------------------------------------------------------------------------
    def run(self, name: str) -> dict:
        """Run (or resume) stage `name`; return what the manifest should record about it."""
        return getattr(self, f"_{name}")()

    def _data(self) -> dict:
        from ctrlrec.data import load, registry, store
        from ctrlrec.data.build import FilterConfig
        from ctrlrec.errors import CtrlrecError

        sec = self.conf["data"]
        if sec.source is None:
            if not self.complete("data"):
                raise CtrlrecError(f"dataset {self.cfg.dataset!r} is not prepared and [data] names no "
                                   "source; expected `ctrlrec data prepare` first or [data] source = ...")
            ds = load(self.cfg.dataset)
            return {"users": ds.n_users, "items": ds.n_items, "prepared": False}
        src = registry.get(sec.source)
        raw = Path(sec.raw) if sec.raw else paths.raw_dir(sec.source)
        if sec.raw is None and src.fetch is not None and not (raw.is_dir() and any(raw.iterdir())):
            src.fetch(raw)
        filt = FilterConfig(
            user_core=src.default_filter.user_core if sec.user_core is None else sec.user_core,
            item_core=src.default_filter.item_core if sec.item_core is None else sec.item_core,
            merge_duplicate_titles=sec.merge_duplicate_titles)
        ds, warnings = registry.prepare(sec.source, raw, filt, out_name=self.cfg.dataset, **sec.options)
        store.save(ds)
        return {"users": ds.n_users, "items": ds.n_items, "prepared": True, "warnings": warnings[:20]}

    def _teacher(self) -> dict:
        from ctrlrec.teacher.train import train

        d = self.dir("teacher")
        resume = (d / "checkpoint").exists()
        res = train(self.conf["teacher"], d, resume=resume, overwrite=not resume, progress=self.progress)
        return {"resumed": resume, "test": res.get("test"), "best_epoch": res.get("best_epoch")}

    def _tasks(self) -> dict:
        from ctrlrec.tasks.build import build_samples, save_training_set
        from ctrlrec.tasks.cli import _context
        from ctrlrec.tasks.testsets import save_testsets

        cfg, general = self.conf["tasks"]
        teacher = str(self.dir("teacher")) if "teacher" in self.cfg.stages else "popularity"
        ctx, _ = _context(self.cfg.dataset, teacher)
        from ctrlrec.tasks.replay import general_conversations

        conv = general_conversations(general)
        d = self.dir("tasks")
        counts = save_testsets(d, ctx, self.conf["testset"], self.cfg.dataset, teacher)
        if cfg.target_positions == "heldout":  # validation users stay out of the training samples
            import json

            valid_users = json.loads((d / "testsets_manifest.json").read_text())["valid_users"]
            cfg = replace(cfg, exclude_users=tuple(valid_users))
        samples, report = build_samples(ctx, cfg, conv, progress=self.progress)
        save_training_set(d, samples, report, cfg, self.cfg.dataset, teacher)
        return {"samples": report["total"], "written": dict(report["written"]), "test_cases": counts}

    def _sft(self) -> dict:
        from ctrlrec.sft.cli import _evaluator
        from ctrlrec.sft.trainer import train

        d = self.dir("sft")
        cfg = replace(self.conf["sft"], output_dir=str(d), train_file=str(self.dir("tasks") / "train.jsonl"),
                      valid_file=str(self.dir("tasks") / "valid.jsonl"), prompting=self.conf["pool"].mode)
        if self.cfg.launch.accelerate:
            _launch_sft(cfg, self.cfg.launch, d)
        else:
            train(cfg, _evaluator(self.cfg.dataset), resume=True, progress=self.progress)
        return _pick(d / "manifest.json", "steps", "resumed_from", "best", "tokens_seen")

    def _rl(self) -> dict:
        from ctrlrec.rl.trainer import train

        d = self.dir("rl")
        teacher = str(self.dir("teacher")) if "teacher" in self.cfg.stages else "popularity"
        sft = str(self.dir("sft")) if "sft" in self.cfg.stages else self.conf["rl"].sft
        pool = self.conf["pool"].to_dict() if self.conf["pool"].grounded else None
        cfg = replace(self.conf["rl"], output_dir=str(d), sft=sft, teacher=teacher, pool=pool)
        train(cfg, resume=True, progress=self.progress)
        return _pick(d / "manifest.json", "status", "steps", "resumed_from_step", "last_metrics")

    def _eval(self) -> dict:
        from ctrlrec.data import load
        from ctrlrec.eval.factory import make_recommender
        from ctrlrec.eval.harness import EvalConfig, run_eval
        from ctrlrec.llm.generate import GenerationConfig
        from ctrlrec.scoring import Catalog
        from ctrlrec.tasks.testsets import TEST_SETS

        sec = self.conf["eval"]
        ds = load(self.cfg.dataset)
        catalog = Catalog.from_frame(ds.catalog)
        gen = GenerationConfig(max_new_tokens=sec.max_new_tokens, batch_size=sec.batch_size)
        teacher = self.dir("teacher")
        specs = {"popularity": "popularity", "teacher": f"teacher:{teacher}", "oracle": f"oracle:{teacher}",
                 "oracle-keywords": f"oracle-keywords:{teacher}", "pool-copy": "pool-copy",
                 "pool-random": "pool-random", "pool-oracle": "pool-oracle",
                 "base": self.conf["sft"].model, "sft": str(self.dir("sft")), "rl": str(self.dir("rl"))}
        out = {}
        for row in self.eval_models():
            m, decoding, prompting, guidance, label = self.eval_row(row)
            llm = m in LLM_MODELS
            cbs = sec.constrained_batch_size if decoding != "free" and llm else None
            pool = self.conf["pool"]
            rec = make_recommender(specs[m], ds, replace(gen, batch_size=cbs) if cbs else gen, "auto",
                                   label, sec.precision, decoding,
                                   prompting=prompting, guidance=guidance,
                                   answer=pool.answer if pool.grounded else "titles")
            variant = row.partition("@")[2]
            tasks = sec.variant_tasks.get(variant) or sec.tasks or TEST_SETS
            ecfg = EvalConfig(tasks=tuple(tasks),
                              limit=sec.limit if llm else sec.baseline_limit,
                              limits=dict(sec.limits) if llm else {},
                              plain=sec.plain and not variant)  # variants answer with the instruction only
            summary = run_eval(rec, self.dir("tasks"), catalog, self.dir("eval") / row, ecfg,
                               self.cfg.dataset, progress=self.progress)
            out[row] = {"cases": summary["timing"]["cases"],
                        "seconds": round(summary["timing"]["total_s"], 1)}
        return out

    def _report(self) -> dict:
        from ctrlrec.eval.report import write_report

        sec = self.conf["report"]
        runs = [self.dir("eval") / m for m in self.eval_models()]
        res = write_report(runs, self.dir("report"), sec.title or f"ctrlrec on {self.cfg.dataset}",
                           reference=sec.reference)
        return {"report": str(res["html"])}


def _launch_sft(cfg, launch, run_dir: Path) -> None:
    """SFT in `accelerate launch` processes (which resume from the latest checkpoint themselves)."""
    import subprocess

    from ctrlrec.atomic import write_json
    from ctrlrec.errors import CtrlrecError
    from ctrlrec.sft.launch import launch_command

    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / "sft-config.json"
    write_json(path, cfg.to_dict())
    cmd = launch_command(path, launch.num_processes, launch.mixed_precision, launch.config_file,
                         launch.cpu, tuple(launch.extra))
    code = subprocess.call(cmd)
    if code != 0:
        raise CtrlrecError(f"SFT under accelerate launch exited with {code}: {' '.join(cmd)}")


def _status(path: Path) -> str | None:
    import json

    return json.loads(path.read_text()).get("status") if path.is_file() else None


def _pick(path: Path, *keys: str) -> dict:
    import json

    data = json.loads(path.read_text()) if path.is_file() else {}
    return {k: data.get(k) for k in keys}


def _eval_complete(folder: Path) -> bool:
    import json

    p = folder / "summary.json"
    if not p.is_file():
        return False
    sets = json.loads(p.read_text()).get("sets", {})
    return bool(sets) and all((e.get("control") or {}).get("complete") for e in sets.values())
