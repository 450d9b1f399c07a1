"""Report figures (matplotlib, Agg backend, PNG): one function per figure, each returning its path.

Figures read evaluation summaries only; a model or set missing from a summary is left out of the
figure rather than drawn as zero.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ctrlrec.atomic import atomic_file

# The primary compliance metric of each control set and its direction (paper §3.2-3.5).
COMPLIANCE = (("I1+", "TCP", "↑"), ("I1-", "TCP", "↓"), ("I2<=20%", "CPA", "↑"), ("I2~30%", "CPA", "↑"),
              ("I2>=30%", "CPA", "↑"), ("I2~50%", "CPA", "↑"))
FORMATTING = ("RepeatItem", "NonExist", "InHistory")


def _plt():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt, fig, path: Path) -> Path:
    with atomic_file(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=90)
    plt.close(fig)
    return path


def _get(summary: dict, set_name: str, metric: str, variant: str = "control"):
    entry = (summary.get("sets", {}).get(set_name) or {}).get(variant)
    if not entry:
        return None
    return entry["metrics"].get(metric)


def _bars(ax, labels, series: dict[str, list], ylabel: str, hatch_plain: dict | None = None):
    n = max(len(series), 1)
    width = 0.8 / n
    x = np.arange(len(labels))
    for j, (name, values) in enumerate(series.items()):
        v = np.array([np.nan if a is None else 100 * a for a in values])
        ax.bar(x + (j - (n - 1) / 2) * width, v, width, label=name)
        if hatch_plain and name in hatch_plain:
            p = np.array([np.nan if a is None else 100 * a for a in hatch_plain[name]])
            ax.scatter(x + (j - (n - 1) / 2) * width, p, marker="_", s=200, color="black", zorder=3)
    ax.set_xticks(x, labels)
    ax.set_ylabel(ylabel)
    ax.set_ylim(0, 105)
    ax.grid(axis="y", alpha=0.3)


def compliance(runs: list[tuple[str, dict]], path: Path) -> Path:
    """Compliance metric per control set, one bar per model (with the control sentence)."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4))
    labels = [f"{s}\n{m} {d}" for s, m, d in COMPLIANCE]
    series = {lab: [_get(s, name, m) for name, m, _ in COMPLIANCE] for lab, s in runs}
    _bars(ax, labels, series, "%")
    ax.set_title("Compliance per intent kind (TCP@10 for I1, CPA for I2)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return _save(plt, fig, path)


def control_effect(runs: list[tuple[str, dict]], path: Path) -> Path:
    """With the control sentence (bars) against without it (black ticks), per set and model."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(9, 4))
    labels = [f"{s}\n{m} {d}" for s, m, d in COMPLIANCE]
    series = {lab: [_get(s, name, m) for name, m, _ in COMPLIANCE] for lab, s in runs}
    plain = {lab: [_get(s, name, m, "plain") for name, m, _ in COMPLIANCE] for lab, s in runs}
    _bars(ax, labels, series, "%", hatch_plain=plain)
    ax.set_title("With the control sentence (bars) and without it (black ticks)")
    ax.legend(fontsize=8, ncol=2)
    fig.tight_layout()
    return _save(plt, fig, path)


def formatting(runs: list[tuple[str, dict]], path: Path) -> Path:
    """Formatting errors on the count test (k = 11..15) and on I0 (k = 10), per model."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8), sharey=True)
    for ax, set_name in zip(axes, ("count", "I0"), strict=True):
        labels = [*FORMATTING, "CorrectCount"]
        series = {lab: [_get(s, set_name, m) for m in labels] for lab, s in runs}
        _bars(ax, [f"{m}\n{'↑' if m == 'CorrectCount' else '↓'}" for m in labels], series, "%")
        ax.set_title(f"set {set_name}")
    axes[0].legend(fontsize=8)
    fig.suptitle("Formatting quality")
    fig.tight_layout()
    return _save(plt, fig, path)


def count_vs_k(runs: list[tuple[str, dict]], path: Path) -> Path:
    """CorrectCount and NonExist against k on the count test, one line per model."""
    plt = _plt()
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.8))
    for ax, metric in zip(axes, ("CorrectCount", "NonExist"), strict=True):
        for lab, s in runs:
            by_k = ((s.get("sets", {}).get("count") or {}).get("control") or {}).get("by_k") or {}
            ks = sorted(by_k, key=int)
            vals = [by_k[k].get(metric) for k in ks]
            if ks:
                ax.plot([int(k) for k in ks], [np.nan if v is None else 100 * v for v in vals],
                        marker="o", label=lab)
        ax.set_xlabel("k asked for")
        ax.set_ylabel(f"{metric} %")
        ax.set_ylim(-2, 102)
        ax.grid(alpha=0.3)
        ax.set_title(f"{metric} against k (count test)")
    axes[0].legend(fontsize=8)
    fig.tight_layout()
    return _save(plt, fig, path)


FIGURES = (("compliance", compliance), ("control_effect", control_effect),
           ("formatting", formatting), ("count_vs_k", count_vs_k))


def draw_all(runs: list[tuple[str, dict]], out: Path) -> dict[str, Path]:
    out.mkdir(parents=True, exist_ok=True)
    return {name: fn(runs, out / f"{name}.png") for name, fn in FIGURES}
