"""`ctrlrec cf compare`: the five models with and without side embeddings on one or more splits,
one Markdown table and one bar chart. Each run keeps its own directory, so an interrupted
comparison picks up where it stopped (finished runs are read back, an unfinished one resumes).

With several training seeds (`--seeds`), every run is repeated per seed over the one split of
`--seed` (only the initialisation and the sampler change), and the table gives mean ± sample std:
the noise a column has to beat. The first seed's runs keep the single-seed directory names, so an
earlier one-seed comparison in the same folder is reused as that seed."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ctrlrec.atomic import atomic_file, write_json
from ctrlrec.cf.config import CFConfig
from ctrlrec.cf.models import NAMES as MODEL_NAMES

METRICS = ("recall@20", "ndcg@20")
NAMES = {"popularity": "popularity", **MODEL_NAMES}


def popularity_row(base: CFConfig, split_kind: str) -> dict:
    """The floor: every user gets the items ranked by training interactions (same masks)."""
    import numpy as np
    import torch

    from ctrlrec.cf.train import Evaluator, prepare

    _, split, _, _ = prepare(replace(base, split=split_kind, side="none"))
    counts = torch.from_numpy(np.bincount(split.train[:, 1], minlength=split.n_items)).float()

    class Popularity(torch.nn.Module):  # the interface the Evaluator calls; modes from Module
        def prepare_eval(self):
            pass

        def clear_eval(self):
            pass

        def score_users(self, users):
            return counts.expand(len(users), -1)

    res = Evaluator(split)(Popularity(), "test")
    return {"split": split_kind, "model": "popularity", "side": "none", "best_epoch": 0,
            "epochs_run": 0, "s_per_epoch": 0.0, "test_users": res["users"],
            **{m: res[m] for m in METRICS}}


def profile_runs(spec: str | None) -> dict[str, str]:
    """Side labels -> profiles build runs, from `--profiles`: `RUN` (side `profiles`) or comma-separated
    `LABEL=RUN` (side `profiles-LABEL`). A run may hold `{split}`, filled with each split's name, since
    each split needs profiles written from its own training interactions."""
    out: dict[str, str] = {}
    for part in (spec or "").split(","):
        if not part.strip():
            continue
        label, _, path = part.strip().rpartition("=")
        out[f"profiles-{label}" if label else "profiles"] = path
    return out


def side_config(base: CFConfig, side: str, split: str, profiles: dict[str, str]) -> CFConfig:
    """The run config of one side label (profile labels map to side=profiles and their build run)."""
    from ctrlrec.errors import CtrlrecError

    if side.startswith("profiles"):
        if side not in profiles:
            raise CtrlrecError(f"--side {side}: no profiles run for it; expected --profiles "
                               f"{'RUN' if side == 'profiles' else side[len('profiles-'):] + '=RUN'}")
        return replace(base, side="profiles", split=split, profiles=profiles[side].replace("{split}", split))
    return replace(base, side=side, split=split)


def seed_configs(cfg: CFConfig, seeds: list[int] | None) -> list[tuple[CFConfig, str]]:
    """(config, run-name suffix) per training seed; the split stays the one of `cfg.seed`."""
    if not seeds:
        return [(cfg, "")]
    return [(cfg if s == cfg.seed else replace(cfg, seed=s, split_seed=cfg.seed_of_split()),
             "" if s == cfg.seed else f"-s{s}") for s in seeds]


def check_same(run: Path, cfg: CFConfig) -> None:
    """A run directory is read back or resumed only if it was started with these settings: a table
    must not mix runs of other settings under one column."""
    from ctrlrec.errors import CtrlrecError
    from ctrlrec.weights import saved_config

    if not (run / "config.json").is_file():
        return
    diff = cfg.differences(saved_config(run, CFConfig))
    if diff:
        raise CtrlrecError(f"{run}: was started with other settings than this comparison's: "
                           f"{'; '.join(diff)}; expected the same settings or another --out")


def run_all(base: CFConfig, models, sides, splits, out: Path, progress: bool = True,
            log=print, table_only: bool = False, profiles: dict[str, str] | None = None,
            seeds: list[int] | None = None) -> list[dict]:
    """Train (or read back) every run; with `table_only`, read back finished runs and skip the rest.
    `seeds`: training seeds, each run once per seed over the split of `base.seed`."""
    from ctrlrec.cf.train import train

    rows = []
    for split in splits:
        rows.append(popularity_row(base, split))
        for model in models:
            for side in sides:
                one = replace(side_config(base, side, split, profiles or {}), model=model)
                for cfg, suffix in seed_configs(one, seeds):
                    run = out / f"{split}-{model}-{side}{suffix}"
                    check_same(run, cfg)
                    if (run / "metrics.json").is_file():
                        res = json.loads((run / "metrics.json").read_text())
                    elif table_only:
                        log(f"{split:9s} {NAMES[model]:8s} side={side:5s} seed {cfg.seed} not finished, "
                            "left out")
                        continue
                    else:
                        res = train(cfg, run, resume=(run / "checkpoint").is_dir(), progress=progress)
                    row = {"split": split, "model": model, "side": side, "seed": cfg.seed,
                           "best_epoch": res["best_epoch"], "epochs_run": res["epochs_run"],
                           "s_per_epoch": res["s_per_epoch"], "test_users": res["test"]["users"],
                           **{m: res["test"][m] for m in METRICS}}
                    log(f"{split:9s} {NAMES[model]:8s} side={side:5s} "
                        + (f"seed {cfg.seed} " if seeds else "")
                        + "  ".join(f"{m} {row[m]:.4f}" for m in METRICS)
                        + f"  ({row['epochs_run']} epochs, {row['s_per_epoch']:.2f} s/epoch)")
                    rows.append(row)
    return rows


def summary(rows: list[dict]) -> dict[tuple, dict[str, tuple[float, float, int]]]:
    """(split, model, side) -> metric -> (mean, sample std, runs) over the rows' seeds."""
    import statistics

    groups: dict[tuple, list[dict]] = {}
    for r in rows:
        groups.setdefault((r["split"], r["model"], r["side"]), []).append(r)
    return {k: {m: (statistics.fmean(x[m] for x in g),
                    statistics.stdev([x[m] for x in g]) if len(g) > 1 else 0.0, len(g))
                for m in METRICS} for k, g in groups.items()}


def _cell(stat: tuple[float, float, int]) -> str:
    mean, std, n = stat
    return f"{mean:.4f}" if n == 1 else f"{mean:.4f} ± {std:.4f}"


def markdown(rows: list[dict], sides) -> str:
    """One line per split and model; Recall@20 / NDCG@20 per side (mean ± std over seeds, if several)."""
    head = "| split | model | " + " | ".join(f"R@20 {s} | N@20 {s}" for s in sides) + " |"
    lines = [head, "|" + "---|" * (2 + 2 * len(sides))]
    by = summary(rows)
    seen = []
    for r in rows:
        key = (r["split"], r["model"])
        if key in seen:
            continue
        seen.append(key)
        cells = []
        for s in sides:
            x = by.get((*key, s))
            cells += [_cell(x[m]) if x else "–" for m in METRICS]
        if all(c == "–" for c in cells):  # e.g. the popularity floor when `none` is not a column
            continue
        lines.append(f"| {key[0]} | {NAMES[key[1]]} | " + " | ".join(cells) + " |")
    seeds = sorted({r["seed"] for r in rows if "seed" in r})
    if len(seeds) > 1:
        lines += ["", f"Mean ± sample std over training seeds {', '.join(map(str, seeds))} (one split)."]
    return "\n".join(lines) + "\n"


def bar_chart(rows: list[dict], sides, path: Path, metric: str = "recall@20") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = list(dict.fromkeys((r["split"], r["model"]) for r in rows))
    by = {k: v[metric][0] for k, v in summary(rows).items()}
    fig, ax = plt.subplots(figsize=(max(6, 0.7 * len(groups)), 3.5))
    width = 0.8 / len(sides)
    for k, s in enumerate(sides):
        xs = [g + k * width for g in range(len(groups))]
        ax.bar(xs, [by.get((*g, s), 0.0) for g in groups], width, label=f"side: {s}")
    ax.set_xticks([g + 0.4 - width / 2 for g in range(len(groups))])
    ax.set_xticklabels([f"{NAMES[m]}\n{sp}" for sp, m in groups], fontsize=7)
    ax.set_ylabel(metric.replace("recall", "Recall").replace("ndcg", "NDCG"))
    ax.legend(fontsize=8)
    fig.tight_layout()
    with atomic_file(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=120)
    plt.close(fig)


def write_outputs(rows: list[dict], sides, out: Path) -> None:
    write_json(out / "results.json", {"rows": rows})
    with atomic_file(out / "table.md") as fh:
        fh.write(markdown(rows, sides))
    bar_chart(rows, sides, out / "chart.png")
