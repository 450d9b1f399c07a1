"""Fixed test sets (one per dataset and seed), shared by every model compared.

Built from each user's held-out item with the items before it as history; the instruction's
category comes from the target and the teacher, never from the model under test (reference-notes
defect 7). Each case carries the titles `ctrlrec score` needs (history, target, teacher ranking),
the ids, the prompt with its control sentence and the same prompt without it.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import replace
from pathlib import Path

import numpy as np

from ctrlrec import intents as wording
from ctrlrec.atomic import write_json
from ctrlrec.manifest import manifest
from ctrlrec.scoring.intents import Intent
from ctrlrec.tasks.build import write_jsonl
from ctrlrec.tasks.config import TestsetConfig
from ctrlrec.tasks.context import TaskContext
from ctrlrec.tasks.pool import Pool, admits, build_pools
from ctrlrec.tasks.samples import grounded_user

TEST_SETS = ("I0", "I0@5", "I1+", "I1-", "I2<=20%", "I2~30%", "I2>=30%", "I2~50%",
             "I1+&I1-", "I2<=20%&I1-", "count", "hI1+", "hI1-", "hI2<=20%", "hI2~30%", "hI2>=30%")
# "h" + a set: the same intents as that set, worded by `ctrlrec.heldout` (never seen in training)
HELDOUT = "h"
VALID_SETS = ("I0", "I1+", "I1-", "I2~50%")


def _set_intents(name: str, pos: str, neg: str | None, neg2: str | None) -> tuple | None:
    """The intent(s) of one test set for one case; None when the categories are missing."""
    if name.startswith(HELDOUT):
        return _set_intents(name[len(HELDOUT):], pos, neg, neg2)
    table = {
        "I0": (Intent("I0"),), "I0@5": (Intent("I0"),), "count": (Intent("I0"),),
        "I1+": (Intent("I1+", pos),),
        "I1-": (Intent("I1-", neg),) if neg else None,
        "I2<=20%": (Intent("I2<=", neg, 0.2),) if neg else None,
        "I2~30%": (Intent("I2~", pos, 0.3),),
        "I2>=30%": (Intent("I2>=", pos, 0.3),),
        "I2~50%": (Intent("I2~", pos, 0.5),),
        "I1+&I1-": (Intent("I1+", pos), Intent("I1-", neg)) if neg else None,
        "I2<=20%&I1-": (Intent("I2<=", neg, 0.2), Intent("I1-", neg2)) if neg and neg2 else None,
    }
    return table[name]


def build_cases(ctx: TaskContext, cfg: TestsetConfig, split: str = "test",
                sets: tuple[str, ...] = TEST_SETS, users: np.ndarray | None = None) -> dict:
    """{set name: [case, ...]} for the test (or validation) targets of `users`."""
    ds = ctx.ds
    sp = ds.split
    rng = random.Random(f"{cfg.seed}-{split}")
    if users is None:
        users = sp.eval_users[: cfg.limit_users] if cfg.limit_users else sp.eval_users
    row_of = {int(u): j for j, u in enumerate(sp.eval_users)}
    targets = sp.test_target if split == "test" else sp.valid_target
    prefixes = [ds.sequences[u][:-1] if split == "test" else sp.train[u] for u in users]
    out: dict[str, list] = {s: [] for s in sets}
    for start in range(0, len(users), 1024):
        chunk = list(range(start, min(start + 1024, len(users))))
        rankings = ctx.rankings([prefixes[j] for j in chunk])
        pools = build_pools(ctx, [prefixes[j] for j in chunk], cfg.pool)
        for j, ranking, pool in zip(chunk, rankings, pools, strict=True):
            u = int(users[j])
            target = int(targets[row_of[u]])
            prefix = prefixes[j]
            allowed = ctx.allowed(prefix)
            shown = prefix[-cfg.history_max:]
            pos = rng.choice(ctx.item_categories[target])
            neg = ctx.negative_category(ranking, allowed, target)
            neg2 = ctx.negative_category(ranking, allowed, target, skip=(neg,)) if neg else None
            top = ranking[allowed[ranking]][: cfg.teacher_top]
            for name in sets:
                held = name.startswith(HELDOUT)
                intents = _set_intents(name, pos, neg, neg2)
                if intents is None:
                    continue
                k = 5 if name == "I0@5" else rng.randint(*cfg.count_k) if name == "count" else 10
                out[name].append(_case(ctx, cfg, f"{split}-{name}-u{u}", name, u, k, intents, shown,
                                       target, top, pool, rng, held))
    return out


def _case(ctx, cfg, cid, name, u, k, intents, shown, target, top, pool, rng, held=False) -> dict:
    if held:  # wordings never seen in training (`ctrlrec.heldout`)
        from ctrlrec.heldout import render_heldout_intents

        control = render_heldout_intents(intents, k, rng)
    else:
        control = wording.render_intents(intents, k, rng)
    history_titles = [ctx.titles[i] for i in shown]
    intent_json = [i.to_json() for i in intents]
    perm = random.Random(cid).sample(range(len(pool.items)), len(pool.items))
    shuffled = Pool([pool.items[j] for j in perm], [pool.scores[j] for j in perm])
    neutral = replace(cfg.pool, order="title")  # "Candidates:" without "best first"
    grounded = {
        "pool_ids": pool.items, "pool_scores": [round(x, 5) for x in pool.scores],
        "pool_admits": admits(ctx.catmat, ctx.cat_index, pool.items, shown, k, intents),
        "messages_grounded": wording.messages(
            grounded_user(ctx, cfg.pool, k, history_titles, control, pool)),
        "messages_grounded_plain": wording.messages(
            grounded_user(ctx, cfg.pool, k, history_titles, "", pool)),
        # the permutation test: the same pool in a random order (if hits follow position, it copies)
        "messages_grounded_shuffled": wording.messages(
            grounded_user(ctx, neutral, k, history_titles, control, shuffled)),
    }
    return {**grounded, "instruction": control,
        "id": cid, "set": name, "user": u, "k": k,
        "intent": intent_json[0] if len(intent_json) == 1 else intent_json,
        "messages": wording.messages(wording.user_prompt(k, history_titles, control)),
        "messages_plain": wording.messages(wording.user_prompt(k, history_titles, "")),
        "history": history_titles, "target": ctx.titles[target],
        "teacher": [ctx.titles[i] for i in top],
        "history_ids": shown.tolist(), "target_id": target, "teacher_ids": top.tolist(),
    }


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def save_testsets(out: Path, ctx: TaskContext, cfg: TestsetConfig, dataset: str,
                  teacher: str | None) -> dict:
    """Write test/<set>.jsonl and valid/<set>.jsonl plus a manifest with their hashes."""
    counts, hashes, coverage = {}, {}, {}
    test = build_cases(ctx, cfg, "test", TEST_SETS)
    sp = ctx.ds.split
    rng = np.random.default_rng(cfg.seed)
    vusers = np.sort(rng.choice(sp.eval_users, size=min(cfg.valid_per_task, len(sp.eval_users)),
                                replace=False))
    valid = build_cases(ctx, cfg, "valid", VALID_SETS, users=vusers)
    for split, sets in (("test", test), ("valid", valid)):
        for name, cases in sets.items():
            path = out / split / f"{_fname(name)}.jsonl"
            path.parent.mkdir(parents=True, exist_ok=True)
            write_jsonl(path, cases)
            counts[f"{split}/{name}"] = len(cases)
            coverage[f"{split}/{name}"] = round(sum(c["pool_admits"] for c in cases) / max(len(cases), 1), 4)
            hashes[f"{split}/{name}"] = _digest(path)
    mixed = [c for group in zip(*valid.values(), strict=False) for c in group]
    write_jsonl(out / "valid.jsonl", mixed)  # the validation sets interleaved, for SFT's validation
    counts["valid (interleaved)"] = len(mixed)
    write_json(out / "testsets_manifest.json", manifest(
        "tasks.testset", cfg.to_dict(), cfg.seed, dataset=dataset, teacher=teacher,
        counts=counts, sha256=hashes, pool=cfg.pool.to_dict(), pool_admits=coverage,
        valid_users=[int(u) for u in vusers]))
    return counts


def _fname(name: str) -> str:
    """File-system-safe set names: I2<=20% -> I2le20, I1+&I1- -> I1pos_I1neg."""
    for a, b in (("<=", "le"), (">=", "ge"), ("~", "approx"), ("%", ""), ("+", "pos"),
                 ("-", "neg"), ("&", "_"), ("@", "at")):
        name = name.replace(a, b)
    return name


def load_testset(path: str | Path) -> list[dict]:
    with open(path, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
