"""`ctrlrec profiles rl`: reward model, then PPO refinement of the tuned profile writer.

1. Pairs (reward.pairs): teacher profiles over profiles written under wrong instructions by the tuned
   model, and over other users' teacher profiles. 2. RewardTrainer -> `reward/adapter`. 3. PPO with
   the RL stage's `PPOTrainer`: one scalar per response on its last token (the reward model's score
   plus `shape_weight` for a valid profile shape, minus it otherwise; for a collaborative answer, of
   the user's own line), no item rewards, list_scale 1,
   and a KL penalty (`kl_coef`) to the tuned policy, which is the PPO reference. The refined policy is
   `RUN/merged`, with a profiles.json marker, ready for `profiles build --model RUN`.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ctrlrec.atomic import write_json
from ctrlrec.errors import CtrlrecError
from ctrlrec.manifest import manifest
from ctrlrec.profiles import shape
from ctrlrec.profiles.build import MARKER, first_profile, model_marker, user_prompts
from ctrlrec.profiles.cache import GenerationCache, generate_cached
from ctrlrec.profiles.config import ProfilesConfig
from ctrlrec.profiles.context import build_context
from ctrlrec.profiles.prompts import wrong_messages
from ctrlrec.profiles.reward import RewardScorer, pair_accuracy, pairs
from ctrlrec.profiles.samples import single_prompt
from ctrlrec.rl.rewards import Judgement


class ProfileReward:
    """A PPO reward function: reward-model score + shape term, one scalar per response."""

    def __init__(self, scorer, shape_weight: float = 1.0):
        self.scorer, self.shape_weight = scorer, shape_weight

    def __call__(self, texts: Sequence[str], samples: Sequence[dict]) -> Judgement:
        own = [first_profile(t, int(s["user"])) for t, s in zip(texts, samples, strict=True)]
        valid = np.array([shape.is_valid(p) for p in own], dtype=np.float64)
        rm = np.asarray(self.scorer([s.get("rm_messages") or s["messages"] for s in samples], own))
        total = rm + self.shape_weight * (2 * valid - 1)
        n = len(texts)
        return Judgement([[] for _ in range(n)], [np.zeros(0) for _ in range(n)], total,
                         {"profile/valid_share": float(valid.mean()), "profile/rm_score": float(rm.mean())})


def read_teacher(path: Path) -> tuple[dict[int, str], set[int] | None]:
    """The valid teacher profiles of a `profiles train` run, and the users it held out of tuning
    (None for a file written before it recorded them)."""
    if not path.is_file():
        raise CtrlrecError(f"{path}: missing; expected the teacher.jsonl of a `ctrlrec profiles train` run")
    out, held = {}, None
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            if "held_out_user" in row:
                held = set() if held is None else held
                if row["held_out_user"]:
                    held.add(int(row["user"]))
            if row.get("valid"):
                out[int(row["user"])] = row["profile"]
    return out, held


def split_users(ctx, train_run: Path,
                among: list[int] | None = None) -> tuple[dict[int, str], list[int], list[int]]:
    """The train run's valid teacher profiles, the users RL may tune on (among `among`, default
    every context user) and the users the train run held out of tuning (its --eval-share, not this
    run's), which RL never tunes on."""
    teacher, held = read_teacher(Path(train_run) / "teacher.jsonl")
    held = ctx.eval_users() if held is None else held
    tune = [u for u in (ctx.users if among is None else among) if u in teacher and u not in held]
    return teacher, tune, [u for u in ctx.users if u in teacher and u in held]


def preference_rows(cfg: ProfilesConfig, ctx, users: list[int], teacher: dict[int, str], writer,
                    cache: GenerationCache, progress: bool = True) -> tuple[dict, list[dict]]:
    """The single-round prompts of `users` and their preference pairs; `writer` = (model, tok,
    fingerprint) of the tuned policy, which writes the wrong-instruction profiles (cached)."""
    model, tok, fp = writer
    prompts = {u: single_prompt(ctx, u) for u in users}
    asks = [wrong_messages(ctx.text, u, ctx.histories[u], u) for u in users]
    wrong_text = generate_cached(model, tok, asks, cache, fp, cfg.batch_size, cfg.max_new_tokens,
                                 desc="wrong-prompt profiles", progress=progress) if users else []
    # the reward model only ever sees canonical renderings (PPO scores the canonical profile)
    wrong = {u: shape.canonical(t) for u, t in zip(users, wrong_text, strict=True)}
    return prompts, pairs(prompts, {u: teacher[u] for u in users}, wrong, cfg.seed)


def reward_accuracy(scorer, rows: list[dict], held_rows: list[dict], out: Path,
                    progress: bool = True, train_cap: int | None = None) -> dict:
    """Pair accuracy of the reward model on its training pairs (a seeded sample of `train_cap` when
    set: scoring costs ~1 s a sequence on a CPU) and on the pairs of the users the train run held
    out (never trained on); written to `out/reward/accuracy.json`."""
    seen = rows
    if train_cap and len(rows) > train_cap:
        pick = np.random.default_rng(0).choice(len(rows), train_cap, replace=False)
        seen = [rows[i] for i in sorted(pick.tolist())]
    acc = {"train": {**pair_accuracy(scorer, seen, progress), "of": len(rows)},
           "held_out": pair_accuracy(scorer, held_rows, progress)}
    write_json(out / "reward" / "accuracy.json", acc)
    return acc


def ppo_config(cfg: ProfilesConfig, tuned: str, out: Path, **over):
    from ctrlrec.rl.config import PPOConfig

    values = dict(sft=tuned, dataset=cfg.dataset, output_dir=str(out), seed=cfg.seed, steps=cfg.rl_steps,
                  item_reward=False, list_scale=1.0, kl_coef=cfg.kl_coef, max_new_tokens=cfg.max_new_tokens,
                  prompts_per_step=8, responses_per_prompt=2, rollout_batch_size=cfg.batch_size,
                  learning_rate=1e-5, save_every=10, tensorboard=False, device=cfg.device,
                  gradient_checkpointing=True,  # ~1,300-token prompts: docs/log/2026-12.md
                  threads=cfg.threads or None)
    values.update(over)
    return PPOConfig(**values)


def refine(cfg: ProfilesConfig, tuned: str, train_run: str | Path, out: str | Path, progress: bool = True,
           pieces=None, **ppo_over) -> Path:
    """Reward model + PPO. `pieces` = (policy model, tok, fingerprint, scalar model, scalar tok) for tests."""
    import torch

    from ctrlrec.profiles.reward import scalar_model, train_reward_model
    from ctrlrec.rl.model import ActorCritic, load_backbone
    from ctrlrec.rl.trainer import PPOTrainer

    out, train_run = Path(out), Path(train_run)
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    ctx = build_context(cfg)
    teacher, users, held_users = split_users(ctx, train_run)
    if pieces is None:
        from ctrlrec.llm.device import choose
        from ctrlrec.profiles.build import model_fingerprint

        placement = choose(cfg.device)
        policy_model, tok = load_backbone(tuned, placement)
        fp = model_fingerprint(tuned)
        rm_model, rm_tok = scalar_model(cfg.model, placement.device)
    else:
        policy_model, tok, fp, rm_model, rm_tok = pieces
    cache = GenerationCache(out / "cache.jsonl")
    prompts, rows = preference_rows(cfg, ctx, users, teacher, (policy_model, tok, fp), cache, progress)
    _, held_rows = preference_rows(cfg, ctx, held_users, teacher, (policy_model, tok, fp), cache, progress)
    adapter, measured = out / "reward" / "adapter", out / "reward" / "accuracy.json"
    resumed = (adapter / "adapter_config.json").is_file()
    if resumed:  # a resumed run keeps its reward model
        from peft import PeftModel

        rm = PeftModel.from_pretrained(rm_model, str(adapter))
    else:
        rm = train_reward_model(rm_model, rm_tok, rows, out / "reward", cfg.rm_epochs, cfg.rm_learning_rate,
                                cfg.rm_lora_r, seed=cfg.seed, max_length=cfg.max_length, progress=progress)
    scorer = RewardScorer(rm, rm_tok, cfg.batch_size)
    if resumed and measured.is_file():  # and its measurement: scoring the pairs again is minutes on a CPU
        accuracy = json.loads(measured.read_text(encoding="utf-8"))
    else:
        accuracy = reward_accuracy(scorer, rows, held_rows, out, progress, train_cap=max(len(held_rows), 32))
    reward_fn = ProfileReward(scorer, cfg.shape_weight)
    pcfg = ppo_config(cfg, tuned, out, **ppo_over)
    policy = ActorCritic.from_config(policy_model, pcfg)
    kind = model_marker(tuned).get("prompt", "single")  # the prompt the tuned model was trained on
    rl_prompts = [{"user": u, "messages": m, "rm_messages": prompts[u]}
                  for u, m in zip(users, user_prompts(ctx, users, kind), strict=True)]
    trainer = PPOTrainer(pcfg, policy, tok, rl_prompts, reward_fn, out, progress)
    trainer.resume()
    trainer.train()
    trainer.export()
    last = trainer.history[-1] if trainer.history else {}
    marker = model_marker(tuned)
    write_json(out / MARKER, {"prompt": kind, "teacher": marker.get("teacher"), "stage": "rl",
                              "dataset": cfg.dataset, "split": cfg.split, "seed": cfg.seed})
    write_json(out / "manifest.json", manifest("profiles-rl", cfg.to_dict(), cfg.seed, tuned=tuned,
                                               train_run=str(train_run), pairs=len(rows),
                                               reward_accuracy=accuracy, ppo=pcfg.to_dict(),
                                               steps=trainer.step,
                                               last_metrics=last, teacher=marker.get("teacher")))
    return out


def evaluate_reward(run: str | Path, train_run: str | Path | None = None, users: int | None = None,
                    progress: bool = True) -> dict:
    """The reward accuracy of a finished `profiles rl` run (train and held-out pairs), without
    touching its policy: for runs made before `refine` measured it. Adds it to the manifest.
    `users` widens the held-out side to the train run's held-out users among the first `users`."""
    import torch

    from ctrlrec.llm.device import choose
    from ctrlrec.profiles.build import model_fingerprint
    from ctrlrec.rl.model import load_backbone

    run = Path(run)
    path = run / "manifest.json"
    if not path.is_file():
        raise CtrlrecError(f"{run}: expected a finished `ctrlrec profiles rl` run (manifest.json)")
    man = json.loads(path.read_text(encoding="utf-8"))
    train_run = train_run or man.get("train_run")
    if man.get("stage") != "profiles-rl" or not train_run:
        raise CtrlrecError(f"{run}: expected a `profiles rl` manifest; runs older than its `train_run` "
                           "field need --train-run")
    cfg = ProfilesConfig.from_dict({**man["config"], **({"users": users} if users is not None else {})})
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    ctx = build_context(cfg)
    # the run's own tuning users (so its pairs); the held-out side among all of ctx's users
    teacher, users, held_users = split_users(ctx, train_run, ctx.users[: man["config"].get("users") or None])
    placement = choose(cfg.device)
    model, tok = load_backbone(man["tuned"], placement)
    writer, cache = (model, tok, model_fingerprint(man["tuned"])), GenerationCache(run / "cache.jsonl")
    _, rows = preference_rows(cfg, ctx, users, teacher, writer, cache, progress)
    _, held_rows = preference_rows(cfg, ctx, held_users, teacher, writer, cache, progress)
    del model
    scorer = RewardScorer.load(cfg.model, run / "reward" / "adapter", placement.device, cfg.batch_size)
    acc = reward_accuracy(scorer, rows, held_rows, run, progress)
    write_json(path, {**man, "train_run": str(train_run), "reward_accuracy": acc,
                      "reward_accuracy_users": cfg.users})
    return acc
