"""The service's grounded mode: the teacher retrieves each request's candidate pool.

A model trained in the grounded mode (`[pool] mode = "grounded"`) reads prompts that list the
teacher's candidates for the history; the service builds the same prompt per request and decodes
over the pool. Where the model comes from a pipeline run (runs/pipeline-NAME/sft or .../rl/merged),
the run's own pool settings and teacher are found from its `pipeline.json`; `--teacher` and
`--pool-mode` set them by hand.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from ctrlrec.errors import CtrlrecError
from ctrlrec.tasks.pool import PoolConfig, build_pools


def pipeline_of(model: str) -> Path | None:
    """The pipeline run folder holding `model`, if any (the nearest parent with pipeline.json)."""
    p = Path(model).expanduser()
    for parent in [p, *p.parents][:4]:
        if (parent / "pipeline.json").is_file():
            return parent
    return None


def resolve(model: str, mode: str, teacher: str) -> tuple[PoolConfig, str | None]:
    """(pool config, teacher run) for a served model: mode "auto" follows the model's pipeline run."""
    if mode not in ("auto", "paper", "grounded"):
        raise CtrlrecError(f"pool mode {mode!r}: expected auto, paper or grounded")
    run = pipeline_of(model)
    pool = PoolConfig()
    if run is not None:
        config = json.loads((run / "pipeline.json").read_text()).get("config", {})
        pool = PoolConfig(**(config.get("pool") or {}))
        teacher = teacher or (str(run / "teacher") if (run / "teacher" / "config.json").is_file() else "")
    if mode != "auto":
        pool = PoolConfig(**{**pool.to_dict(), "mode": mode})
    if pool.grounded and not teacher:
        raise CtrlrecError(f"model {model}: the grounded mode needs the teacher that retrieves the "
                           "candidates; expected --teacher RUN (a `ctrlrec teacher train` folder)")
    return pool, teacher or None


@dataclass
class Retriever:
    """Candidate pools (and the teacher's scores on them) for histories, as the test sets hold them."""

    ctx: object  # ctrlrec.tasks.context.TaskContext over the served dataset and the teacher
    pool: PoolConfig

    @classmethod
    def load(cls, ds, teacher: str, pool: PoolConfig) -> Retriever:
        from ctrlrec.tasks.context import TaskContext
        from ctrlrec.teacher.api import Teacher

        t = Teacher.load(teacher)
        if t.n_items != ds.n_items:
            raise CtrlrecError(f"teacher {teacher} was trained on {t.n_items} items but the served "
                               f"dataset has {ds.n_items}; expected a teacher of this dataset")
        return cls(TaskContext(ds, t, teacher_len=t.config.max_len), pool)

    def pools(self, histories: list[list[int]]):
        import numpy as np

        return build_pools(self.ctx, [np.asarray(h, dtype=np.int64) for h in histories], self.pool)
