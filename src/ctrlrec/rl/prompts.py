"""RL prompts: instruction samples of I0, I1+, I1-, I2<=, I2~, I2>= without their answers, each with
the teacher's ranking of the catalog for its shown history (the ranks in S_p).

Drawn with the tasks stage's own samplers (same wording, same categories, same k*m as SFT), or read
from a JSONL file of samples. The pool is written to the run directory once, so a resumed run uses
the very same prompts in the same order.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from ctrlrec.errors import CtrlrecError, InputFileError
from ctrlrec.llm.chat import prompt_messages


def task_context(dataset: str, teacher: str):
    """(TaskContext, Dataset) with the popularity ranker or a trained SASRec teacher run."""
    from ctrlrec.data import load
    from ctrlrec.tasks.context import PopularityRanker, TaskContext

    ds = load(dataset)
    if teacher == "popularity":
        return TaskContext(ds, PopularityRanker.from_dataset(ds)), ds
    try:
        from ctrlrec.teacher.api import Teacher  # lives on the teacher branch until merged
    except ImportError as exc:
        raise CtrlrecError(f"teacher '{teacher}': the SASRec teacher module is not installed here; "
                           "use --teacher popularity") from exc
    t = Teacher.load(teacher)
    if t.n_items != ds.n_items:
        raise CtrlrecError(f"teacher {teacher} was trained on {t.n_items} items but {dataset} has "
                           f"{ds.n_items}; expected a teacher trained on this dataset")
    return TaskContext(ds, t, teacher_len=t.config.max_len), ds


def draw(ctx, tasks: tuple[str, ...], n: int, k_min: int, k_max: int, seed: int,
         pool: dict | None = None) -> list[dict]:
    """About `n` prompts, equal numbers per task, drawn like SFT samples (answers removed); with a
    grounded `pool` config, each lists its candidates and shows the last items of its history."""
    from ctrlrec.tasks.build import build_samples
    from ctrlrec.tasks.config import TASKS, TaskConfig
    from ctrlrec.tasks.pool import PoolConfig

    per = max(1, -(-n // len(tasks)))
    sizes = {t: (per if t in tasks else 0) for t in TASKS}
    pcfg = PoolConfig(**(pool or {}))
    cfg = TaskConfig(seed=seed, sizes=sizes, k_min=k_min, k_max=k_max,
                     i2_k=tuple(range(k_min, k_max + 1)), candidate_share=0.0, pool=pcfg,
                     history_window="last" if pcfg.grounded else "random")
    samples, _ = build_samples(ctx, cfg, None, progress=False)
    return [strip_answer(s) for s in samples[:n]]


def strip_answer(sample: dict) -> dict:
    keep = ("id", "task", "intent", "k", "history", "target", "user", "instruction", "form", "candidates")
    out = {k: sample[k] for k in keep if k in sample}
    out["messages"] = prompt_messages(sample)
    return out


def read(path: str | Path) -> list[dict]:
    """Instruction samples (any with `k`) as RL prompts, their answers stripped."""
    from ctrlrec.jsonl import read_jsonl

    p = Path(path)
    rows = []
    for n, s in enumerate(read_jsonl(p), 1):
        if "k" not in s:
            raise InputFileError(p, "samples with 'messages', 'k', 'intent', 'history', 'target'",
                                 f"sample {n}")
        rows.append(strip_answer(s))
    if not rows:
        raise InputFileError(p, "at least one sample", "no samples")
    return rows


def attach_teacher(ctx, prompts: list[dict], batch: int = 512) -> None:
    """Give each prompt `teacher`: ranks (int32, indexed by item id) from the ranker on its history."""
    for s in range(0, len(prompts), batch):
        chunk = prompts[s: s + batch]
        rankings = ctx.rankings([np.asarray(p.get("history") or [], dtype=np.int64) for p in chunk])
        for p, ranking in zip(chunk, rankings, strict=True):
            ranks = np.empty(len(ranking), dtype=np.int64)
            ranks[np.asarray(ranking)] = np.arange(len(ranking))
            p["teacher"] = ranks


def write(path: Path, prompts: list[dict]) -> None:
    from ctrlrec.atomic import atomic_file

    with atomic_file(path) as fh:
        for p in prompts:
            fh.write(json.dumps({k: v for k, v in p.items() if k != "teacher"}, ensure_ascii=False) + "\n")


def order(n_prompts: int, step: int, per_step: int, seed: int) -> list[int]:
    """The prompt indices of `step`: a seeded shuffle of the pool per pass, deterministic for resume."""
    start = step * per_step
    out = []
    for j in range(start, start + per_step):
        epoch, pos = divmod(j, n_prompts)
        perm = np.random.default_rng([seed, epoch]).permutation(n_prompts)
        out.append(int(perm[pos]))
    return out
