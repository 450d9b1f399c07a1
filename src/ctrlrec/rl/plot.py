"""`ctrlrec rl plot RUN`: the training curves of a run's metrics.csv, drawn to one PNG."""

from __future__ import annotations

import math
from pathlib import Path

from ctrlrec.errors import InputFileError
from ctrlrec.rl.logger import read_csv

# panels: title -> metric names (prefix match for the per-intent families)
PANELS = {
    "reward per response (before whitening)": ["reward/total", "reward/item", "reward/list",
                                               "reward/kl_penalty", "reward/rm", "reward/format"],
    "KL to the reference (nats per response)": ["kl"],
    "entropy / clip fraction / approx KL": ["entropy", "clipfrac", "approx_kl"],
    "value loss": ["loss/value"],
    "instruction compliance per intent / simulated users (crs)": [
        "comply/", "sim/accept_rate", "sim/success", "sim/left", "sim/sentiment"],
    "formatting errors": ["format_err/", "fmt/"],
}


def _smooth(y: list[float], w: int) -> list[float]:
    out, acc = [], []
    for v in y:
        acc.append(v)
        acc = acc[-w:]
        ok = [a for a in acc if not math.isnan(a)]
        out.append(sum(ok) / len(ok) if ok else math.nan)
    return out


def plot(run: str | Path, out: str | Path | None = None, smooth: int = 1) -> Path:
    """Write `out` (default RUN/curves.png) and return its path."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    run = Path(run)
    rows = read_csv(run / "metrics.csv")
    if not rows:
        raise InputFileError(run / "metrics.csv", "the metrics of an RL run (`ctrlrec rl train`)",
                             "missing or empty")
    steps = [r["step"] for r in rows]
    names = list(dict.fromkeys(k for r in rows for k in r))
    fig, axes = plt.subplots(3, 2, figsize=(12, 11))
    for ax, (title, wanted) in zip(axes.flat, PANELS.items(), strict=True):
        chosen = [n for n in names if any(n == w or (w.endswith("/") and n.startswith(w)) for w in wanted)]
        for name in chosen:
            ys = _smooth([r.get(name, math.nan) for r in rows], smooth)
            ax.plot(steps, ys, label=name, linewidth=1.2)
        ax.set_title(title, fontsize=10)
        ax.set_xlabel("PPO step")
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    fig.suptitle(f"{run.name}" + (f" (moving mean over {smooth} steps)" if smooth > 1 else ""))
    fig.tight_layout()
    target = Path(out) if out else run / "curves.png"
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp.png")
    fig.savefig(tmp, dpi=110)
    plt.close(fig)
    tmp.replace(target)
    return target
