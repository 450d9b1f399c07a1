"""The RL stage: PPO on rule-based item- and list-level rewards placed on the sampled tokens.

One straight loop per step: prompts -> rollout (sample, log-probs, reference log-probs, values) ->
judge (scoring) -> rewards on tokens -> GAE -> PPO epochs -> log -> checkpoint. The run directory holds
manifest.json, prompts.jsonl, metrics.csv, tensorboard/, checkpoints/step-NNNNNN/ (resume picks the
newest), and at the end final/ (actor, critic, value head) and merged/ (the RL policy as a plain
model folder that `ctrlrec generate RUN` and `load_any(RUN)` read).

`PPOTrainer` takes its pieces ready-made (model, tokenizer, prompts, reward function), so tests can
run it on a tiny model with a rule reward; `train(cfg)` builds them from a config.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ctrlrec.atomic import atomic_dir, write_json
from ctrlrec.manifest import manifest
from ctrlrec.rl import checkpoint
from ctrlrec.rl import prompts as prompt_pool
from ctrlrec.rl.config import PPOConfig
from ctrlrec.rl.logger import MetricsLog
from ctrlrec.rl.rewards import RewardFn
from ctrlrec.rl.rollout import collect
from ctrlrec.rl.update import advantages, place_rewards, ppo_update


class PPOTrainer:
    """PPO over `prompts` with `reward_fn`, training `policy` (an `ActorCritic`) in `run_dir`."""

    def __init__(self, cfg: PPOConfig, policy, tok, prompts: list[dict], reward_fn: RewardFn,
                 run_dir: str | Path, progress: bool = True, decoder=None):
        import torch

        cfg.check()
        self.cfg, self.policy, self.tok, self.prompts, self.reward_fn = cfg, policy, tok, prompts, reward_fn
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        self.progress = progress
        self.decoder = decoder  # a CatalogDecoder: rollouts constrained to each prompt's candidates
        groups = policy.parameter_groups()
        critic_lr = cfg.critic_learning_rate or cfg.learning_rate
        self.optimizer = torch.optim.AdamW(
            [{"params": groups["actor"], "lr": cfg.learning_rate},
             {"params": groups["critic"] + groups["value_head"], "lr": critic_lr}],
            lr=cfg.learning_rate, weight_decay=cfg.weight_decay)
        self.step = 0
        self.history: list[dict] = []

    def resume(self) -> int:
        """Load the newest checkpoint, if any; returns the step it ended (0 when starting fresh)."""
        found = checkpoint.list_checkpoints(self.run_dir)
        if found:
            self.step = int(checkpoint.load(found[-1], self.policy, self.optimizer)["step"])
        return self.step

    def _seed(self, step: int, what: int) -> int:
        return (self.cfg.seed * 1_000_003 + step * 7 + what) % (2**31)

    def run_step(self) -> dict:
        """One rollout and PPO update; returns the step's metrics."""
        import torch

        cfg, step = self.cfg, self.step
        t0 = time.perf_counter()
        idx = prompt_pool.order(len(self.prompts), step, cfg.prompts_per_step, cfg.seed)
        batch = [self.prompts[i] for i in idx]
        roll = collect(self.policy, self.tok, batch, cfg, seed=self._seed(step, 1), decoder=self.decoder)
        t_roll = time.perf_counter() - t0
        samples = [batch[i] for i in roll.prompt_index]
        judged = self.reward_fn(roll.texts, samples)
        rewards, comp = place_rewards(self.tok, roll, judged, cfg)
        adv, returns = advantages(rewards, roll, cfg)
        gen = torch.Generator().manual_seed(self._seed(step, 2))
        upd = ppo_update(self.policy, self.optimizer, roll, adv, returns, cfg, gen,
                         train_actor=step >= cfg.critic_warmup_steps)
        mask = roll.tensors["mask"]
        n_tok = mask.sum(1)
        kl = ((roll.logp - roll.ref_logp) * mask).sum(1)
        out = {
            "reward/total": float(rewards.sum(1).mean()),  # before whitening
            "reward/item": float(np.mean(comp["item"])),
            "reward/list": float(np.mean(comp["list"])),
            "reward/kl_penalty": float(np.mean(comp["kl"])),
            "reward/item_mean": float(np.mean(np.concatenate(judged.item_rewards)))
            if sum(len(x) for x in judged.item_rewards) else float("nan"),
            "reward/list_raw": float(np.mean(judged.list_rewards)),
            "kl": float(kl.mean()),  # sum over tokens of log pi - log pi_ref, mean over responses
            "response_tokens": float(n_tok.mean()),
            "value/mean": float(((roll.values * mask).sum() / mask.sum()).item()),
            **upd, **judged.stats,
            "time/rollout_s": t_roll, "time/step_s": time.perf_counter() - t0,
        }
        self.step += 1
        return out

    def train(self, steps: int | None = None, time_budget_min: float | None = None) -> list[dict]:
        """Run until `steps` (default cfg.steps) are done or the time budget is spent; checkpoints
        every cfg.save_every steps and at the end. Returns the metrics of the steps run now."""
        cfg = self.cfg
        steps = cfg.steps if steps is None else steps
        budget = cfg.time_budget_min if time_budget_min is None else time_budget_min
        log = MetricsLog(self.run_dir, self.step, cfg.tensorboard)
        t_start = time.perf_counter()
        bar = tqdm(total=steps, initial=self.step, desc="ppo", unit="step", disable=not self.progress)
        ran = []
        try:
            while self.step < steps:
                m = self.run_step()
                log.log(self.step, m)
                ran.append(m)
                bar.update(1)
                bar.set_postfix(reward=f"{m['reward/total']:.2f}", kl=f"{m['kl']:.2f}")
                out_of_time = budget is not None and time.perf_counter() - t_start > 60 * budget
                if self.step % cfg.save_every == 0 or self.step == steps or out_of_time:
                    self.save_checkpoint()
                if out_of_time:
                    break
        finally:
            bar.close()
            log.close()
        self.history += ran
        return ran

    def save_checkpoint(self) -> Path:
        return checkpoint.save(self.run_dir, self.step, self.policy, self.optimizer,
                               keep=self.cfg.keep_checkpoints)

    def export(self, tokenizer_too: bool = True) -> Path:
        """final/ (adapters + value head) and merged/ (the policy as a plain model). Ends training."""
        with atomic_dir(self.run_dir / "final") as tmp:
            self.policy.save(tmp)
        merged = self.policy.merged_policy()
        with atomic_dir(self.run_dir / "merged") as tmp:
            merged.save_pretrained(tmp, safe_serialization=True)
            if tokenizer_too:
                self.tok.save_pretrained(tmp)
        return self.run_dir / "merged"


def build(cfg: PPOConfig, progress: bool = True) -> PPOTrainer:
    """A trainer from a config: the SFT policy, the prompt pool, the scoring reward."""
    import torch

    from ctrlrec.llm.device import choose
    from ctrlrec.rl.model import ActorCritic, load_backbone
    from ctrlrec.rl.rewards import ScoringReward
    from ctrlrec.scoring import Catalog

    cfg.check()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    run_dir = cfg.run_dir()
    placement = choose(cfg.device, cfg.precision)
    ctx, ds = prompt_pool.task_context(cfg.dataset, cfg.teacher)
    pool_file = run_dir / "prompts.jsonl"
    if pool_file.is_file():  # a resumed run keeps its prompts
        pool = prompt_pool.read(pool_file)
    elif cfg.prompts_file:
        pool = prompt_pool.read(cfg.prompts_file)
    else:
        pool = prompt_pool.draw(ctx, cfg.tasks, cfg.n_prompts, cfg.k_min, cfg.k_max, cfg.seed, cfg.pool)
    model, tok = load_backbone(cfg.sft, placement)  # a bad SFT run is refused before anything is written
    run_dir.mkdir(parents=True, exist_ok=True)
    if not pool_file.is_file():
        prompt_pool.write(pool_file, pool)
    prompt_pool.attach_teacher(ctx, pool)
    policy = ActorCritic.from_config(model, cfg)
    catalog = Catalog.from_frame(ds.catalog)
    decoder = None
    if cfg.rollout_decoding == "catalog":
        from ctrlrec.llm.decoding import CatalogDecoder
        from ctrlrec.tasks.pool import PoolConfig

        decoder = CatalogDecoder(tok, catalog, tagged=PoolConfig(**(cfg.pool or {})).tagged)
    trainer = PPOTrainer(cfg, policy, tok, pool, ScoringReward(catalog), run_dir, progress, decoder)
    trainer.placement = placement
    return trainer


def train(cfg: PPOConfig, resume: bool = True, progress: bool = True) -> Path:
    """Train (resuming from the newest checkpoint unless `resume` is False); return the run directory."""
    import shutil

    run_dir = cfg.run_dir()
    if not resume and run_dir.exists():
        for name in ("checkpoints", "tensorboard", "metrics.csv", "prompts.jsonl", "final", "merged"):
            p = run_dir / name
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    trainer = build(cfg, progress)
    start = trainer.resume() if resume else 0
    pl = trainer.placement
    base = {"placement": {"device": pl.device, "precision": pl.precision}, "n_prompts": len(trainer.prompts)}
    write_json(run_dir / "manifest.json", manifest("rl", cfg.to_dict(), cfg.seed, status="running",
                                                   resumed_from_step=start, **base))
    t0 = time.perf_counter()
    trainer.train()
    status = "done" if trainer.step >= cfg.steps else "stopped (time budget)"
    merged = trainer.export()
    last = trainer.history[-1] if trainer.history else {}
    write_json(run_dir / "manifest.json", manifest(
        "rl", cfg.to_dict(), cfg.seed, status=status, resumed_from_step=start, steps=trainer.step,
        seconds_this_session=time.perf_counter() - t0, last_metrics=last, merged=str(merged), **base))
    return run_dir
