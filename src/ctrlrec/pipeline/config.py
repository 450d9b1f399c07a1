"""The pipeline's configuration: one TOML file with a table per stage.

```toml
[pipeline]                # what and where
name = "ml-100k"          # run directory runs/pipeline-<name> unless run_dir is given
dataset = "ml-100k"
stages = ["data", "teacher", "tasks", "sft", "rl", "eval", "report"]   # the default: all

[data]      source, user_core, item_core, merge_duplicate_titles, raw   (no source: use a prepared dataset)
[teacher]   TeacherConfig fields (ctrlrec.teacher.config)
[tasks]     TaskConfig fields (ctrlrec.tasks.config) and `general` (a chat file, replay:MODEL or none)
[testset]   TestsetConfig fields
[pool]      PoolConfig fields (ctrlrec.tasks.pool): mode = "grounded" lists the teacher's candidates in
            every prompt (tasks, sft, rl, eval, serve); "paper" (default) the history alone;
            answer = "tagged" writes answer lines as "1. [Comedy] 'Title'" (eval, serve, rl follow it)
[sft]       SFTConfig fields (ctrlrec.sft.config)
[rl]        PPOConfig fields (ctrlrec.rl.config)
[eval]      models, tasks, limit, limits, precision, decoding, batch_size, constrained_batch_size,
            max_new_tokens, plain, variants (see EvalSection)
[launch]    accelerate = true, num_processes, mixed_precision, config_file: SFT under `accelerate launch`
[report]    title, reference
```
Each stage's table is checked against its own config class, so a misspelt key fails before anything
runs. Paths inside the run directory (the teacher, the samples, the SFT run...) are filled in by the
pipeline; a table only says how a stage is configured, not where its inputs are.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path

from ctrlrec.errors import CtrlrecError

STAGES = ("data", "teacher", "tasks", "sft", "rl", "eval", "report")
EVAL_MODELS = ("popularity", "teacher", "oracle", "oracle-keywords", "pool-copy", "pool-random",
               "pool-oracle", "base", "sft", "rl")


@dataclass
class DataSection:
    source: str | None = None  # a registered source (ml-100k, ml-1m, steam, amazon, csv) to prepare from
    raw: str | None = None  # folder with the raw files (default: the cache; fetched when the source can)
    user_core: int | None = None  # None: the source's default filter
    item_core: int | None = None
    merge_duplicate_titles: bool = True
    options: dict = field(default_factory=dict)  # source options, e.g. {category = "Movies_and_TV"}


@dataclass
class EvalSection:
    models: tuple[str, ...] = EVAL_MODELS  # rows of the report, in order (see EVAL_MODELS)
    tasks: tuple[str, ...] | None = None  # test sets (None = all of ctrlrec.tasks.testsets.TEST_SETS)
    limit: int | None = None  # first N cases of each set for the chat models (None = all)
    limits: dict = field(default_factory=dict)  # per-set overrides of limit, e.g. {I0 = 300}
    baseline_limit: int | None = None  # the same for popularity/teacher/oracle (fast: None = all)
    precision: str = "auto"  # chat models: auto, fp32 or bf16
    decoding: str = "free"  # free, catalog or guaranteed
    batch_size: int = 16  # prompts per generation batch
    # prompts per batch in catalog/guaranteed decoding (None = batch_size); 1 decodes each prompt
    # jump-forward (ctrlrec.llm.jump), faster than batches on a CPU (docs/results.md, "Decoding")
    constrained_batch_size: int | None = None
    max_new_tokens: int = 320
    plain: bool = True  # also answer control prompts without the control sentence
    # further rows per chat model: "DECODING[+teacher][@paper|@grounded|@shuffled]", e.g.
    # "guaranteed+teacher" (teacher-guided decoding, weight `guidance`), "free@paper" (the paper-mode
    # prompt) or "free@shuffled" (the pool listed in a random order: the permutation test)
    variants: tuple[str, ...] = ()
    guidance: float = 1.0
    variant_models: tuple[str, ...] = ("sft", "rl")  # the chat models the variants apply to
    # test sets of a variant, e.g. {"free@shuffled" = ["I0"]} (default: `tasks`)
    variant_tasks: dict = field(default_factory=dict)


@dataclass
class LaunchSection:
    """How SFT is started: in this process (default), or by `accelerate launch` on several GPUs."""

    accelerate: bool = False
    num_processes: int = 1
    mixed_precision: str = "no"  # no, fp16, bf16 (accelerate's setting; SFT's own precision still applies)
    config_file: str | None = None  # an `accelerate config` file (multi-node, DeepSpeed, FSDP)
    cpu: bool = False  # force CPU processes (for trying the launcher without GPUs)
    extra: tuple[str, ...] = ()  # further `accelerate launch` arguments


@dataclass
class ReportSection:
    title: str | None = None  # default "ctrlrec on <dataset>"
    reference: bool = True  # the paper's published rows beside ours


@dataclass
class PipelineConfig:
    name: str
    dataset: str
    run_dir: str | None = None
    stages: tuple[str, ...] = STAGES
    data: DataSection = field(default_factory=DataSection)
    teacher: dict = field(default_factory=dict)
    tasks: dict = field(default_factory=dict)
    testset: dict = field(default_factory=dict)
    pool: dict = field(default_factory=dict)
    sft: dict = field(default_factory=dict)
    rl: dict = field(default_factory=dict)
    eval: EvalSection = field(default_factory=EvalSection)
    launch: LaunchSection = field(default_factory=LaunchSection)
    report: ReportSection = field(default_factory=ReportSection)
    source_file: str | None = None

    def root(self) -> Path:
        return Path(self.run_dir or f"runs/pipeline-{self.name}")

    @classmethod
    def from_toml(cls, path: str | Path, **overrides) -> PipelineConfig:
        p = Path(path)
        try:
            raw = tomllib.loads(p.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CtrlrecError(f"{p}: expected a readable TOML pipeline config ({exc})") from exc
        return cls.from_dict(raw, source_file=str(p), **overrides)

    @classmethod
    def from_dict(cls, raw: dict, source_file: str | None = None, **overrides) -> PipelineConfig:
        raw = dict(raw)
        known = {"pipeline", "data", "teacher", "tasks", "testset", "pool", "sft", "rl", "eval", "launch",
                 "report"}
        unknown = sorted(set(raw) - known)
        if unknown:
            raise CtrlrecError(f"pipeline config: unknown tables {unknown}; expected some of {sorted(known)}")
        top = {**raw.get("pipeline", {}), **{k: v for k, v in overrides.items() if v is not None}}
        for key in ("name", "dataset"):
            if key not in top:
                raise CtrlrecError(f"pipeline config: [pipeline] needs `{key}`")
        _known(top, {"name", "dataset", "run_dir", "stages"}, "pipeline")
        stages = tuple(top.get("stages", STAGES))
        bad = [s for s in stages if s not in STAGES]
        if bad:
            raise CtrlrecError(f"pipeline config: stages {bad} unknown; expected some of {list(STAGES)}")
        cfg = cls(name=top["name"], dataset=top["dataset"], run_dir=top.get("run_dir"), stages=stages,
                  data=_section(DataSection, raw.get("data", {}), "data"),
                  teacher=dict(raw.get("teacher", {})), tasks=dict(raw.get("tasks", {})),
                  testset=dict(raw.get("testset", {})), pool=dict(raw.get("pool", {})),
                  sft=dict(raw.get("sft", {})),
                  rl=dict(raw.get("rl", {})),
                  eval=_section(EvalSection, raw.get("eval", {}), "eval"),
                  launch=_section(LaunchSection, raw.get("launch", {}), "launch"),
                  report=_section(ReportSection, raw.get("report", {}), "report"),
                  source_file=source_file)
        bad = [m for m in cfg.eval.models if m not in EVAL_MODELS]
        if bad:
            raise CtrlrecError(f"[eval] models {bad}: expected some of {list(EVAL_MODELS)}")
        cfg.stage_configs()  # every stage's table is checked now, not when the stage starts
        return cfg

    def stage_configs(self) -> dict:
        """The resolved config of each stage (dataclasses), for the runner and the fingerprints."""
        from ctrlrec.rl.config import PPOConfig
        from ctrlrec.sft.config import SFTConfig
        from ctrlrec.tasks.config import TaskConfig, TestsetConfig
        from ctrlrec.tasks.pool import PoolConfig
        from ctrlrec.teacher.config import TeacherConfig

        tasks = dict(self.tasks)
        pool = _section(PoolConfig, self.pool, "pool")
        for v in self.eval.variants:
            parse_variant(v)
        general = tasks.pop("general", "replay:smollm2-135m")
        out = {
            "data": self.data,
            "teacher": _section(TeacherConfig, {**self.teacher, "dataset": self.dataset}, "teacher"),
            "tasks": (_section(TaskConfig, {**tasks, "pool": pool}, "tasks"), general),
            "testset": _section(TestsetConfig, {**self.testset, "pool": pool}, "testset"),
            "pool": pool,
            "sft": _section(SFTConfig, {**self.sft, "dataset": self.dataset}, "sft"),
            "rl": _section(PPOConfig, {**self.rl, "dataset": self.dataset}, "rl"),
            "eval": self.eval,
            "report": self.report,
        }
        return out


def _known(values: dict, names: set[str], table: str) -> None:
    unknown = sorted(set(values) - names)
    if unknown:
        raise CtrlrecError(f"pipeline config [{table}]: unknown keys {unknown}; "
                           f"expected some of {sorted(names)}")


def _section(cls, values: dict, table: str):
    _known(values, {f.name for f in fields(cls)}, table)
    kw = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    try:
        obj = cls(**kw)
    except (TypeError, ValueError) as exc:
        raise CtrlrecError(f"pipeline config [{table}]: {exc}") from None
    check = getattr(obj, "check", None)
    if callable(check):
        check()
    return obj


def parse_variant(text: str) -> tuple[str, bool, str | None]:
    """"guaranteed+teacher@paper" -> ("guaranteed", True, "paper"); prompting None = the pool mode."""
    from ctrlrec.llm.decoding import MODES

    body, _, prompting = text.partition("@")
    decoding, _, guide = body.partition("+")
    if decoding not in MODES or guide not in ("", "teacher") or \
            prompting not in ("", "paper", "grounded", "shuffled"):
        raise CtrlrecError(f"[eval] variant {text!r}: expected "
                           "DECODING[+teacher][@paper|@grounded|@shuffled] "
                           f"with DECODING one of {', '.join(MODES)}")
    if guide and decoding == "free":
        raise CtrlrecError(f"[eval] variant {text!r}: teacher guidance needs catalog or guaranteed decoding")
    return decoding, bool(guide), prompting or None
