"""`ctrlrec profiles train`: teacher profiles -> single-round SFT -> the tuned model writes every
user's profile -> two-round SFT (from the single-round model, on those profiles), with round-2
accuracy on held-out users for the base model and each tuned model.

Run directory: teacher.jsonl (targets and which teacher wrote them), single.jsonl, step3.jsonl (the
single-round model's profiles) and two_round.jsonl (the SFT samples), single/ (SFT run + merged/)
and two-round/ (SFT run), each with a profiles.json marker that `profiles build` reads,
cache.jsonl (generation cache), metrics.json, manifest.json.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from ctrlrec.atomic import write_json, write_jsonl
from ctrlrec.errors import CtrlrecError
from ctrlrec.manifest import manifest
from ctrlrec.profiles import rounds, shape
from ctrlrec.profiles.build import MARKER, first_profile, model_fingerprint
from ctrlrec.profiles.cache import GenerationCache, generate_cached
from ctrlrec.profiles.config import ProfilesConfig
from ctrlrec.profiles.constrain import heads
from ctrlrec.profiles.context import ProfileContext, build_context
from ctrlrec.profiles.facts import Facts
from ctrlrec.profiles.judge import accuracy, log_odds
from ctrlrec.profiles.prompts import question, with_question
from ctrlrec.profiles.samples import (
    fitting,
    round1_prompt,
    single_prompt,
    single_samples,
    two_round_samples,
)
from ctrlrec.profiles.teacher import make_teacher


def teacher_profiles(ctx: ProfileContext, teacher, users: list[int], no_probe=()) -> dict[int, str]:
    """Target profiles from the teacher, written from each history without its held-out item. Users
    in `no_probe` (held out for evaluation) are not ranked on their round-2 questions."""
    probes = [ctx.round2[u].questions() if u in ctx.round2 and u not in no_probe else [] for u in users]
    facts = Facts(ctx.ds.catalog, ctx.histories)
    held = {u: ctx.round2[u].held_out for u in users if u in ctx.round2}  # never in a target
    extra = [[facts.profile(rounds.without(ctx.histories[u], held.get(u)))] for u in users]
    texts = teacher.write([single_prompt(ctx, u) for u in users], probes, ctx.text, users, extra=extra)
    return {u: shape.canonical(t) for u, t in zip(users, texts, strict=True)}


def round2_accuracy(ctx: ProfileContext, model, tok, fp: str, users, kind: str, cache: GenerationCache,
                    progress: bool = True) -> dict:
    """Round-2 accuracy of a model on `users`: it writes round 1 itself (greedy), then answers both
    questions of each user's round-2 sample (the held-out item: Yes; the negative: No)."""
    users = [u for u in sorted(users) if u in ctx.round2]
    prompts = [round1_prompt(ctx, u) if kind == "collaborative" else single_prompt(ctx, u) for u in users]
    answers = generate_cached(model, tok, prompts, cache, fp, ctx.cfg.batch_size,
                              ctx.cfg.max_new_tokens * (1 + ctx.cfg.m if kind == "collaborative" else 1),
                              desc="round 1", progress=progress,
                              heads=heads(users, kind, ctx.neighbours) if ctx.cfg.constrain else None)
    convs, labels = [], []
    for u, p, a in zip(users, prompts, answers, strict=True):
        own = first_profile(a, u) if kind == "collaborative" else shape.canonical(a)
        answer = a if kind == "collaborative" else own
        for item, yes in ctx.round2[u].questions():
            convs.append(with_question(p, answer, question(ctx.text, u, item)))
            labels.append(yes)
    scores = (log_odds(model, tok, convs, ctx.cfg.batch_size, progress=progress, cache=cache, fingerprint=fp)
              if convs else [])
    return {"users": len(users), "questions": len(labels), "accuracy": accuracy(scores, labels)}


def _sft(cfg: ProfilesConfig, base: str, train_file: Path, out: Path, progress: bool) -> Path:
    from ctrlrec.sft.config import SFTConfig
    from ctrlrec.sft.trainer import train

    sft = SFTConfig(model=base, train_file=str(train_file), output_dir=str(out), seed=cfg.seed,
                    max_length=cfg.max_length, lora_r=cfg.lora_r, learning_rate=cfg.learning_rate,
                    batch_size=cfg.sft_batch_size, grad_accum=cfg.grad_accum, epochs=cfg.epochs,
                    eval_every=0, save_every=10, device=cfg.device)  # ~1 min a step on CPU
    sft.check()
    return train(sft, None, resume=True, progress=progress)


def _load(run: str, cfg: ProfilesConfig):
    from ctrlrec.llm.device import choose
    from ctrlrec.llm.models import load_any

    model, tok = load_any(run, choose(cfg.device), merge=True)
    return model, tok, model_fingerprint(run)


def _merge(run: Path, model, tok) -> Path:
    """RUN/merged: the tuned model as a plain folder, the starting point of the next round."""
    from ctrlrec.atomic import atomic_dir

    with atomic_dir(run / "merged") as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
    return (run / "merged").resolve()


def _read(path: Path) -> dict[int, str]:
    rows = [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]
    return {int(r["user"]): r["profile"] for r in rows if r.get("valid")}


def train(cfg: ProfilesConfig, out: str | Path, stages: tuple[str, ...] = ("single", "two-round"),
          progress: bool = True, loaded=None) -> dict:
    """Teacher -> single-round SFT -> the tuned model's profiles -> two-round SFT from the tuned model.

    `loaded` = (model, tok, fingerprint) of the base model (tests). Without the single stage (or
    its finished run in `out`), two-round starts from the base model on the teacher's profiles.
    """
    import torch

    out = Path(out)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    ctx = build_context(cfg)
    model, tok, fp = loaded or _load(cfg.model, cfg)
    cache = GenerationCache(out / "cache.jsonl")
    teacher = make_teacher(cfg.teacher, model, tok, fp, cache, cfg.best_of, cfg.teacher_model,
                           cfg.batch_size, cfg.max_new_tokens, constrain=cfg.constrain)
    held = ctx.eval_users()
    users = ctx.users
    targets = teacher_profiles(ctx, teacher, users, no_probe=held)
    valid = {u: t for u, t in targets.items() if shape.is_valid(t)}
    if not valid:
        raise CtrlrecError(f"teacher {teacher.name}: none of its {len(targets)} profiles has the fixed shape "
                           f"(three identity phrases, three interests); expected a teacher that "
                           "follows it (a larger model, or more --best-of samples)")
    write_jsonl(out / "teacher.jsonl", [{"user": u, "profile": t, "valid": u in valid,
                                         "teacher": teacher.name, "held_out_user": u in held}
                                        for u, t in targets.items()])
    tune = [u for u in users if u not in held]
    metrics = {"teacher": teacher.name, "teacher_judge": getattr(teacher, "judge", None) or None,
               "targets": len(targets), "valid_targets": len(valid),
               "held_out_users": len(held), "samples": {}, "left_out_over_max_length": {},
               "round2": {"base": round2_accuracy(ctx, model, tok, fp, held, "collaborative", cache,
                                                  progress)}}
    write_json(out / "metrics.json", metrics)

    def marker(run: Path, stage: str, prompt: str) -> None:
        write_json(run / MARKER, {"prompt": prompt, "teacher": teacher.name, "stage": stage,
                                  "dataset": cfg.dataset, "split": cfg.split, "seed": cfg.seed})

    two_base, two_targets = cfg.model, valid
    if "single" in stages:
        rows, cut = fitting(tok, single_samples(ctx, tune, valid), cfg.max_length)
        write_jsonl(out / "single.jsonl", rows)
        metrics["samples"]["single"], metrics["left_out_over_max_length"]["single"] = len(rows), cut
        run = out / "single"
        shutil.rmtree(run / "merged", ignore_errors=True)  # load_any prefers it: never a stale one
        _sft(cfg, cfg.model, out / "single.jsonl", run, progress)
        marker(run, "single", "single")
        tuned, ttok, tfp = _load(str(run), cfg)
        metrics["round2"]["single"] = round2_accuracy(ctx, tuned, ttok, tfp, held, "single", cache, progress)
        # step 3: the tuned model writes every user's profile; these are the two-round targets
        texts = generate_cached(tuned, ttok, [single_prompt(ctx, u) for u in users], cache, tfp,
                                cfg.batch_size, cfg.max_new_tokens, desc="tuned profiles", progress=progress,
                                heads=heads(users) if cfg.constrain else None)
        step3 = {u: shape.canonical(t) for u, t in zip(users, texts, strict=True)}
        write_jsonl(out / "step3.jsonl", [{"user": u, "profile": t, "valid": shape.is_valid(t)}
                                          for u, t in step3.items()])
        two_base = str(_merge(run, tuned, ttok))
        write_json(out / "metrics.json", metrics)
    elif (out / "single" / "merged" / "config.json").is_file() and (out / "step3.jsonl").is_file():
        two_base = str((out / "single" / "merged").resolve())
    if two_base != cfg.model:  # the tuned model's own profiles, the teacher's where it wrote none in shape
        two_targets = {**valid, **_read(out / "step3.jsonl")}
        metrics["two_round_targets"] = "single-round model (teacher where not in shape)"
    else:
        metrics["two_round_targets"] = "teacher"
    if "two-round" in stages:
        rows, cut = fitting(tok, two_round_samples(ctx, tune, two_targets), cfg.max_length)
        write_jsonl(out / "two_round.jsonl", rows)
        metrics["samples"]["two-round"], metrics["left_out_over_max_length"]["two-round"] = len(rows), cut
        run = out / "two-round"
        _sft(cfg, two_base, out / "two_round.jsonl", run, progress)
        marker(run, "two-round", "collaborative")
        tuned, ttok, tfp = _load(str(run), cfg)
        metrics["round2"]["two-round"] = round2_accuracy(ctx, tuned, ttok, tfp, held, "collaborative", cache,
                                                         progress)
        write_json(out / "metrics.json", metrics)
    write_json(out / "manifest.json", manifest("profiles-train", cfg.to_dict(), cfg.seed,
                                               stages=list(stages), **metrics))
    return metrics
