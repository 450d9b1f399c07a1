"""Per-step metrics: one CSV (rewritten atomically, so a killed run never leaves half a row) and,
optionally, TensorBoard event files. On resume the rows after the checkpoint's step are dropped."""

from __future__ import annotations

import csv
import math
from pathlib import Path

from ctrlrec.atomic import atomic_file


def read_csv(path: Path) -> list[dict]:
    """The rows of a metrics CSV as dicts of floats (empty cells -> NaN)."""
    if not path.is_file():
        return []
    with open(path, newline="", encoding="utf-8") as fh:
        return [{k: float(v) if v not in ("", None) else math.nan for k, v in row.items()}
                for row in csv.DictReader(fh)]


class MetricsLog:
    """Append-only per-step metrics with a CSV file and an optional TensorBoard writer."""

    def __init__(self, run_dir: Path, start_step: int = 0, tensorboard: bool = True):
        self.path = run_dir / "metrics.csv"
        self.rows = [r for r in read_csv(self.path) if r.get("step", math.inf) <= start_step]
        self.tb = None
        if tensorboard:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError:  # tensorboard not installed: the CSV still has everything
                self.tb = None
            else:
                self.tb = SummaryWriter(str(run_dir / "tensorboard"), purge_step=start_step + 1)

    def log(self, step: int, values: dict[str, float]) -> None:
        row = {"step": float(step), **{k: float(v) for k, v in values.items()}}
        self.rows.append(row)
        columns: list[str] = []
        for r in self.rows:
            columns += [k for k in r if k not in columns]
        with atomic_file(self.path) as fh:
            w = csv.DictWriter(fh, fieldnames=columns, restval="", lineterminator="\n")
            w.writeheader()
            for r in self.rows:
                w.writerow({k: "" if math.isnan(v) else repr(v) for k, v in r.items()})
        if self.tb is not None:
            for k, v in values.items():
                if not math.isnan(v):
                    self.tb.add_scalar(k, v, step)
            self.tb.flush()

    def close(self) -> None:
        if self.tb is not None:
            self.tb.close()
