"""Build the training mixture: draw, label with the teacher in batches, check, write JSONL."""

from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import numpy as np
from tqdm import tqdm

from ctrlrec import intents as wording
from ctrlrec.atomic import write_json, write_jsonl
from ctrlrec.manifest import manifest
from ctrlrec.scoring import Catalog
from ctrlrec.tasks.config import TaskConfig
from ctrlrec.tasks.context import TaskContext
from ctrlrec.tasks.pool import build_pools
from ctrlrec.tasks.samples import (
    HISTORY_TASKS,
    draw_grouped_samples,
    draw_history_samples,
    label_draw,
    reverse_samples,
    search_samples,
)
from ctrlrec.tasks.validate import violations


def build_samples(ctx: TaskContext, cfg: TaskConfig, general: list[list[dict]] | None = None,
                  progress: bool = True) -> tuple[list[dict], dict]:
    """All samples of the mixture, shuffled deterministically, and a report of counts per task."""
    rng = np.random.default_rng(cfg.seed)
    prng = random.Random(cfg.seed)
    sizes = cfg.resolved_sizes(ctx.ds.n_users, ctx.ds.n_items, bool(general))
    catalog = Catalog.from_frame(ctx.ds.catalog)
    samples: list[dict] = []
    report = {"requested": sizes, "written": Counter(), "unsatisfiable": Counter(),
              "refused": Counter(), "refusal_reasons": Counter()}
    draws = []
    if cfg.group > 1:
        draws = draw_grouped_samples(ctx, cfg, sizes, rng)
    else:
        for task in HISTORY_TASKS:
            draws += draw_history_samples(ctx, cfg, task, sizes.get(task, 0), rng)
    bar = tqdm(total=len(draws), desc="labelling", unit="sample", disable=not progress)
    for s in range(0, len(draws), cfg.batch):
        chunk = draws[s:s + cfg.batch]
        heads, full = ctx.ranking_heads([d.prefix for d in chunk], cfg.label_top)
        if cfg.pool.grounded:
            for d, pool in zip(chunk, build_pools(ctx, [d.prefix for d in chunk], cfg.pool), strict=True):
                d.pool = pool
        batch = []
        for j, (d, row) in enumerate(zip(chunk, heads, strict=True)):
            sample = label_draw(ctx, cfg, d, row, rng, prng)
            if sample is None and len(row) < ctx.n_items:  # too few fitting items in the head
                sample = label_draw(ctx, cfg, d, full(j), rng, prng)
            if sample is None:
                report["unsatisfiable"][d.task] += 1
            else:
                batch.append(sample)
        samples += _checked(catalog, batch, report)
        bar.update(len(chunk))
    bar.close()
    samples += _checked(catalog, search_samples(ctx, cfg, sizes.get("I3", 0), rng, prng), report)
    rev = reverse_samples(ctx, sizes.get("I3r", 0), rng, prng)
    report["written"]["I3r"] += len(rev)
    samples += rev
    if general:
        n = min(sizes.get("I4", 0), cfg.i4_max_repeat * len(general))
        picks = rng.choice(len(general), size=n, replace=n > len(general)).tolist() if n else []
        for j in picks:
            msgs = general[j]
            if msgs[0]["role"] != "system":
                msgs = [{"role": "system", "content": wording.SYSTEM_CHAT}] + msgs
            samples.append({"task": "I4", "messages": msgs, "intent": None, "k": None,
                            "history": [], "target": None, "labels": [], "candidates": None,
                            "form": "plain", "instruction": _first_user(msgs), "user": None})
        report["written"]["I4"] += len(picks)
    order = rng.permutation(len(samples))
    samples = [samples[j] for j in order]
    for j, s in enumerate(samples):
        s["id"] = f"{s['task']}-{j:07d}"
    report = {k: dict(v) for k, v in report.items()}
    report["total"] = len(samples)
    return samples, report


def _checked(catalog: Catalog, batch: list[dict], report: dict) -> list[dict]:
    """Keep the samples whose labels pass scoring; count and drop the rest."""
    kept = []
    for sample, why in zip(batch, violations(catalog, batch), strict=True):
        if why is None:
            kept.append(sample)
            report["written"][sample["task"]] += 1
        else:
            report["refused"][sample["task"]] += 1
            report["refusal_reasons"][why] += 1
    return kept


def read_jsonl(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def save_training_set(out: Path, samples: list[dict], report: dict, cfg: TaskConfig,
                      dataset: str, teacher: str | None) -> None:
    out.mkdir(parents=True, exist_ok=True)
    write_jsonl(out / "train.jsonl", samples)
    write_json(out / "train_report.json", report)
    write_json(out / "train_manifest.json", manifest(
        "tasks.build", cfg.to_dict(), cfg.seed, dataset=dataset, teacher=teacher))


def _first_user(msgs: list[dict]) -> str:
    """An I4 conversation's instruction: its first user turn."""
    return next((m["content"] for m in msgs if m["role"] == "user"), "")
