"""Multi-turn PPO against the simulator (docs/crs.md, "Multi-turn PPO").

A PPO step runs `prompts_per_step` seeded episodes (training users) for up to `max_turns` turns.
Each turn: the states of the live episodes (the conversations so far) go through `rl.rollout.collect`
(one sampled response each, with log-probs, reference log-probs and values); the simulator reacts to
every response; the turn's reward is

    r = rm_scale * R_phi(state, response) + format_weight * formatting reward (ctrlrec.scoring)

on the response's last token (a list-level reward with list_scale = 1, no item spans), plus the
per-token KL penalty -kl_coef * (log pi - log pi_ref) to the SFT policy (the reference = adapters
off); then GAE and PPO epochs (`rl.update`) on that turn's batch. The next states are the
conversations with the response and the user's reply appended. With `rm = "simulator"` the reward
is the weak label of the simulator's feedback itself (an oracle, for ablations and tests).

Checkpoints, resume, metrics.csv (one row per step, with per-turn columns), final/ and merged/ are
those of the RL stage's `PPOTrainer`, which this subclasses.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ctrlrec.crs import state
from ctrlrec.crs.labels import LabelWeights, weak_label
from ctrlrec.errors import CtrlrecError
from ctrlrec.rl.config import PPOConfig
from ctrlrec.rl.rewards import Judgement
from ctrlrec.rl.rollout import collect
from ctrlrec.rl.trainer import PPOTrainer
from ctrlrec.rl.update import advantages, place_rewards, ppo_update


@dataclass
class CRSRLConfig(PPOConfig):
    rm: str = "simulator"  # reward-model run (`ctrlrec crs rm train`), or "simulator" for the oracle label
    rm_scale: float = 1.0  # multiplier of the reward model's score
    format_weight: float = 0.0  # weight of the formatting reward: CorrectCount - mean(RepeatItem,
    #                             NonExist, InHistory) of ctrlrec.scoring (0 = off)
    label_weights: str = ""  # weak-label weights for the "simulator" reward and the logged label
    k: int = 5  # items per recommendation turn
    max_turns: int = 5  # T: recommendation turns per episode
    noise: float = 0.05  # simulator noise (see ctrlrec.crs.simulator.SimConfig)
    leave_prob: float = 0.3  # simulator: probability of leaving after a turn with nothing liked
    # PPOConfig defaults changed for conversations:
    prompts_per_step: int = 8  # episodes per PPO step
    responses_per_prompt: int = 1  # one response per state: an episode continues with it
    list_scale: float = 1.0  # the turn's reward is used as it is
    kl_coef: float = 0.1  # per-token KL penalty to the SFT policy
    max_new_tokens: int = 96  # a list of 5 titles is ~60 tokens
    steps: int = 20

    def check(self) -> None:
        super().check()
        if self.responses_per_prompt != 1:
            raise CtrlrecError("responses_per_prompt: expected 1 (an episode continues with one response)")
        if self.k < 1 or self.max_turns < 1:
            raise CtrlrecError("k and max_turns: expected positive integers")
        if self.rm_scale < 0 or self.format_weight < 0:
            raise CtrlrecError("rm_scale and format_weight: expected numbers >= 0")

    def run_dir(self) -> Path:
        return Path(self.output_dir or f"runs/crs-rl-{self.dataset}")

    def sim_config(self):
        from ctrlrec.crs.simulator import SimConfig

        return SimConfig(k=self.k, max_turns=self.max_turns, noise=self.noise, leave_prob=self.leave_prob)

    @classmethod
    def from_toml(cls, path=None, **overrides) -> CRSRLConfig:
        from ctrlrec.config import toml_values

        values = toml_values(cls, path, "crs", overrides)
        if "tasks" in values:
            values["tasks"] = tuple(values["tasks"])
        cfg = cls(**values)
        cfg.check()
        return cfg


def format_rewards(catalog, texts: list[str], k: int, histories: list[list[int]]) -> np.ndarray:
    """CorrectCount - mean(RepeatItem, NonExist, InHistory) per response (ctrlrec.scoring)."""
    from ctrlrec.scoring import Case, score_batch

    res = score_batch(catalog, [Case(t, k, "I0", h) for t, h in zip(texts, histories, strict=True)])
    out = []
    for i in range(len(texts)):
        m = res[i].metrics
        errs = [m[n] for n in ("RepeatItem", "NonExist", "InHistory") if m.get(n) is not None]
        out.append(float(m["CorrectCount"]) - (float(np.mean(errs)) if errs else 0.0))
    return np.asarray(out)


class SimulatorReward:
    """The weak label of the simulator's own feedback (an oracle reward)."""

    def __init__(self, weights: LabelWeights):
        self.weights = weights

    def __call__(self, conversations, feedbacks) -> np.ndarray:
        return np.asarray([weak_label(f, self.weights) for f in feedbacks], dtype=np.float64)


class ModelReward:
    """R_phi of a trained reward model on (state, response)."""

    def __init__(self, rm):
        self.rm = rm

    def __call__(self, conversations, feedbacks) -> np.ndarray:
        return self.rm.score(conversations)


class MultiTurnPPO(PPOTrainer):
    """PPO over simulated multi-turn episodes; `reward_fn(conversations, feedbacks) -> [N]`."""

    def __init__(self, cfg: CRSRLConfig, policy, tok, sim, reward_fn, catalog, run_dir, progress=True):
        super().__init__(cfg, policy, tok, [], reward_fn, run_dir, progress)
        self.sim, self.catalog = sim, catalog
        self.weights = LabelWeights.parse(cfg.label_weights)

    def run_step(self) -> dict:
        import torch

        cfg, step = self.cfg, self.step
        t0 = time.perf_counter()
        eps = self.sim.episodes(cfg.prompts_per_step, "train", offset=step * cfg.prompts_per_step)
        per: dict[str, list[float]] = {}
        totals, upds = [], []
        for t in range(cfg.max_turns):
            live = [e for e in eps if not e.done]
            if not live:
                break
            prompts = [e.messages() for e in live]
            hists = [list(e.mentioned) for e in live]
            roll = collect(self.policy, self.tok, prompts, cfg, seed=self._seed(step, 10 + t))
            fbs = [e.react(txt.strip(), state.ground(self.catalog, txt))
                   for e, txt in zip(live, roll.texts, strict=True)]
            convs = [p + [{"role": "assistant", "content": txt.strip()}]
                     for p, txt in zip(prompts, roll.texts, strict=True)]
            r_main = np.asarray(self.reward_fn(convs, fbs), dtype=np.float64)
            r_fmt = format_rewards(self.catalog, roll.texts, cfg.k, hists) if cfg.format_weight else \
                np.zeros(len(live))
            total = cfg.rm_scale * r_main + cfg.format_weight * r_fmt
            n = len(live)
            judged = Judgement([[] for _ in range(n)], [np.zeros(0) for _ in range(n)], total, {})
            rewards, comp = place_rewards(self.tok, roll, judged, cfg)
            adv, returns = advantages(rewards, roll, cfg)
            gen = torch.Generator().manual_seed(self._seed(step, 100 + t))
            upds.append(ppo_update(self.policy, self.optimizer, roll, adv, returns, cfg, gen))
            mask = roll.tensors["mask"]
            kl = ((roll.logp - roll.ref_logp) * mask).sum(1)
            totals += rewards.sum(1).tolist()
            labels = [weak_label(f, self.weights) for f in fbs]
            for key, vals in ((f"turn{t + 1}/reward", total), (f"turn{t + 1}/label", labels),
                              ("reward/rm", r_main), ("reward/format", r_fmt), ("reward/list", total),
                              ("reward/kl_penalty", comp["kl"]), ("kl", kl.tolist()),
                              ("response_tokens", mask.sum(1).tolist()), ("sim/label", labels),
                              ("sim/accept_rate", [float(f.accepted) for f in fbs]),
                              ("sim/sentiment", [f.sentiment for f in fbs])):
                per.setdefault(key, []).extend(float(v) for v in vals)
            per[f"turn{t + 1}/live"] = [float(n)]
        out = {k: float(np.mean(v)) for k, v in per.items()}
        out["reward/total"] = float(np.mean(totals)) if totals else float("nan")
        for key in (upds[0] if upds else {}):
            out[key] = float(np.nanmean([u[key] for u in upds]))
        out.update({"sim/success": float(np.mean([e.first_success is not None for e in eps])),
                    "sim/left": float(np.mean([e.left for e in eps])),
                    "sim/turns": float(np.mean([e.n_rec for e in eps])),
                    "time/step_s": time.perf_counter() - t0})
        self.step += 1
        return out


def build(cfg: CRSRLConfig, progress: bool = True) -> MultiTurnPPO:
    """The trainer from a config: SFT policy, simulator on the dataset's training users, reward."""
    import torch

    from ctrlrec.crs.reward_model import RewardModel
    from ctrlrec.crs.simulator import UserSimulator
    from ctrlrec.data import load
    from ctrlrec.llm.device import choose
    from ctrlrec.rl.model import ActorCritic, load_backbone
    from ctrlrec.scoring import Catalog

    cfg.check()
    if cfg.threads:
        torch.set_num_threads(cfg.threads)
    torch.manual_seed(cfg.seed)
    ds = load(cfg.dataset)
    sim = UserSimulator(ds, cfg.sim_config(), cfg.seed)
    placement = choose(cfg.device, cfg.precision)
    if cfg.rm == "simulator":
        reward = SimulatorReward(LabelWeights.parse(cfg.label_weights))
    else:
        reward = ModelReward(RewardModel.load(cfg.rm, cfg.device, cfg.precision))
    model, tok = load_backbone(cfg.sft, placement)
    policy = ActorCritic.from_config(model, cfg)
    trainer = MultiTurnPPO(cfg, policy, tok, sim, reward, Catalog.from_frame(ds.catalog), cfg.run_dir(),
                           progress)
    trainer.placement = placement
    return trainer


def train(cfg: CRSRLConfig, resume: bool = True, progress: bool = True) -> Path:
    """`ctrlrec crs rl`: multi-turn PPO, resuming from the newest checkpoint unless `resume` is False."""
    import shutil

    from ctrlrec.atomic import write_json
    from ctrlrec.manifest import manifest

    run_dir = cfg.run_dir()
    if not resume and run_dir.exists():
        for name in ("checkpoints", "tensorboard", "metrics.csv", "final", "merged"):
            p = run_dir / name
            shutil.rmtree(p, ignore_errors=True) if p.is_dir() else p.unlink(missing_ok=True)
    trainer = build(cfg, progress)
    start = trainer.resume() if resume else 0
    write_json(run_dir / "manifest.json", manifest("crs-rl", cfg.to_dict(), cfg.seed, status="running",
                                                   resumed_from_step=start))
    trainer.train()
    merged = trainer.export()
    write_json(run_dir / "manifest.json", manifest(
        "crs-rl", cfg.to_dict(), cfg.seed, status="done" if trainer.step >= cfg.steps else "stopped",
        resumed_from_step=start, steps=trainer.step, merged=str(merged),
        last_metrics=trainer.history[-1] if trainer.history else {}))
    return run_dir
