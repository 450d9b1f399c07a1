"""A teacher run directory on disk. Tensors in safetensors, everything else in JSON; atomic writes.

run/
  config.json          {"config": TeacherConfig, "n_items": int, "dataset": str}
  categories.json      {"categories": [...], "item_categories": [[category index, ...] per item]}
  model.safetensors    best weights so far (the teacher)
  metrics.json         validation history, test metrics of the teacher and of popularity
  manifest.json        config, seed, package versions
  checkpoint/          last finished epoch: state.safetensors (weights + AdamW state), state.json
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ctrlrec.atomic import write_json
from ctrlrec.teacher.config import TeacherConfig
from ctrlrec.weights import (  # noqa: F401  (re-exported: the run's weights and checkpoint)
    load_checkpoint,
    load_weights,
    save_checkpoint,
    save_weights,
)


def write_run_files(run: Path, cfg: TeacherConfig, n_items: int, dataset: str,
                    categories: list[str], category_matrix: np.ndarray) -> None:
    write_json(run / "config.json", {"config": cfg.to_dict(), "n_items": n_items,
                                     "dataset": dataset})
    item_cats = [np.flatnonzero(category_matrix[:, i]).tolist() for i in range(n_items)]
    write_json(run / "categories.json", {"categories": categories, "item_categories": item_cats})
