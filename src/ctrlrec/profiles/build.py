"""`ctrlrec profiles build`: every user's (and item's) profile with one model, batched and resumable.

The run directory holds cache.jsonl (the generation cache, appended per batch: a killed build
resumes, a second build reuses it), users.jsonl and items.jsonl (written atomically at the end) and
manifest.json (config, model fingerprint, the teacher behind the model, profiles/s).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np

from ctrlrec.atomic import write_json, write_jsonl
from ctrlrec.errors import CtrlrecError
from ctrlrec.manifest import manifest
from ctrlrec.profiles import shape
from ctrlrec.profiles.cache import GenerationCache, fingerprint_of, generate_cached
from ctrlrec.profiles.config import ProfilesConfig
from ctrlrec.profiles.constrain import heads
from ctrlrec.profiles.context import ProfileContext, build_context
from ctrlrec.profiles.prompts import collaborative_messages, item_messages, profile_messages

MARKER = "profiles.json"  # written by `profiles train` / `profiles rl` into their model runs


def model_marker(model: str) -> dict:
    """What a profile-tuned model run says about itself (prompt kind, teacher); {} for other models."""
    p = Path(model)
    for f in (p / MARKER, p.parent / MARKER):
        if f.is_file():
            return json.loads(f.read_text())
    return {}


def model_fingerprint(model: str) -> str:
    from ctrlrec.llm.models import REGISTRY, converted_dir

    p = Path(model)
    if p.is_dir():
        return fingerprint_of(p)
    if model in REGISTRY and converted_dir(model).is_dir():
        return fingerprint_of(converted_dir(model))
    return model


def first_profile(text: str, user: int) -> str:
    """The user's own line of a (possibly multi-profile) answer, canonicalised."""
    lines = [ln for ln in text.splitlines() if ln.strip()]
    own = next((ln for ln in lines if ln.strip().lower().startswith(f"user {user}:")), None)
    pick = own if own is not None else (lines[0] if lines else "")
    if own is not None:
        pick = pick.split(":", 1)[1]
    return shape.canonical(pick)


def user_prompts(ctx: ProfileContext, users: list[int], kind: str) -> list[list[dict]]:
    c = ctx.cfg
    if kind == "collaborative":
        return [collaborative_messages(ctx.text, u, ctx.histories[u], ctx.neighbour_histories(u),
                                       c.history_cap, c.neighbour_cap) for u in users]
    return [profile_messages(ctx.text, u, ctx.histories[u], c.history_cap) for u in users]


def item_prompts(ctx: ProfileContext, profiles: dict[int, str]) -> tuple[list[int], list[list[dict]]]:
    """Items with a training interaction by a profiled user, and their prompts."""
    by_item: dict[int, list[int]] = {}
    for u, i in ctx.split.train.tolist():
        if u in profiles:
            by_item.setdefault(i, []).append(u)
    items = sorted(by_item)
    prompts = []
    for i in items:
        rng = np.random.default_rng([ctx.cfg.seed, 11, i])
        us = by_item[i]
        pick = rng.choice(us, size=min(len(us), ctx.cfg.item_users), replace=False)
        prompts.append(item_messages(ctx.text, i, [profiles[int(u)] for u in pick], ctx.cfg.item_users))
    return items, prompts


def build(cfg: ProfilesConfig, out: str | Path, prompt: str = "auto", progress: bool = True,
          loaded=None) -> dict:
    """Write the profiles of `cfg.model` into `out`; returns the manifest. `loaded` = (model, tok,
    fingerprint) replaces loading `cfg.model` (tests pass a tiny model)."""
    import torch

    out = Path(out)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    marker = model_marker(cfg.model)
    kind = marker.get("prompt", "single") if prompt == "auto" else prompt
    if kind not in ("single", "collaborative"):
        raise CtrlrecError(f"--prompt {prompt}: expected auto, single or collaborative")
    ctx = build_context(cfg)
    if loaded is None:
        from ctrlrec.llm.device import choose
        from ctrlrec.llm.models import load_any

        model, tok = load_any(cfg.model, choose(cfg.device), merge=True)
        fp = model_fingerprint(cfg.model)
    else:
        model, tok, fp = loaded
    cache = GenerationCache(out / "cache.jsonl")
    users = ctx.users
    before = len(cache)
    t0 = time.perf_counter()
    raw = generate_cached(model, tok, user_prompts(ctx, users, kind), cache, fp, cfg.batch_size,
                          cfg.max_new_tokens, desc="user profiles", progress=progress,
                          heads=heads(users, kind) if cfg.constrain else None)
    t_users = time.perf_counter() - t0
    made_users = len(cache) - before
    profiles = {u: first_profile(r, u) for u, r in zip(users, raw, strict=True)}
    rows = [{"user": u, "profile": profiles[u], "valid": shape.is_valid(profiles[u]), "raw": r,
             "history": ctx.histories[u][-cfg.history_cap:], "neighbours": ctx.neighbours[u],
             "neighbour_source": ctx.source[u]} for u, r in zip(users, raw, strict=True)]
    write_jsonl(out / "users.jsonl", rows)
    item_rows: list[dict] = []
    if cfg.item_profiles:
        items, prompts = item_prompts(ctx, profiles)
        raw_items = generate_cached(model, tok, prompts, cache, fp, cfg.batch_size, cfg.max_new_tokens,
                                    desc="item profiles", progress=progress,
                                    heads=heads(items) if cfg.constrain else None)
        item_rows = [{"item": i, "profile": shape.canonical(r), "valid": shape.is_valid(r)}
                     for i, r in zip(items, raw_items, strict=True)]
        write_jsonl(out / "items.jsonl", item_rows)
    else:
        (out / "items.jsonl").unlink(missing_ok=True)  # never plug in item profiles of an older build
    sources: dict[str, int] = {}
    for u in users:
        sources[ctx.source[u]] = sources.get(ctx.source[u], 0) + 1
    info = manifest("profiles-build", cfg.to_dict(), cfg.seed, model=cfg.model, model_fingerprint=fp,
                    prompt=kind, teacher=marker.get("teacher"), tuned=marker.get("stage", "none"),
                    split=ctx.split.summary(), users=len(rows), items=len(item_rows),
                    valid_share=float(np.mean([r["valid"] for r in rows])) if rows else 0.0,
                    neighbour_sources=sources, generated_users=made_users,
                    user_seconds=t_users,
                    profiles_per_s=(made_users / t_users) if made_users and t_users > 0 else None)
    write_json(out / "manifest.json", info)
    return info

