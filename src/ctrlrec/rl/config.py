"""The RL stage's configuration: one dataclass, every default documented where it is defined.

Defaults follow the paper (§2.3.3) and its reference code where the paper is silent (reference-notes:
KL coefficient 0.3, list reward x10, reward whitening, GAE 0.99/0.95, clip 0.2, value-loss weight 0.5,
entropy bonus 0.01, up to 4 PPO epochs with early stop on approximate KL, lr 5e-6, LoRA r=4/alpha=2).
Load from TOML with `PPOConfig.from_toml(path, **overrides)` (top level or an [rl] table); unknown
keys are an error.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from pathlib import Path

from ctrlrec.config import toml_values
from ctrlrec.errors import CtrlrecError

RL_TASKS = ("I0", "I1+", "I1-", "I2<=", "I2~", "I2>=")


@dataclass
class PPOConfig:
    # --- what to train, on what
    sft: str = "smollm2-135m"  # the SFT run (LoRA run folder, adapter, merged model) or a model name;
    #                            it is the starting policy AND the frozen reference policy
    dataset: str = "ml-100k"  # prepared dataset whose users give the prompts and whose catalog grounds titles
    teacher: str = "popularity"  # teacher run folder (SASRec) for the ranks in S_p, or "popularity"
    prompts_file: str | None = None  # JSONL of instruction samples to use as prompts instead of drawing them
    tasks: tuple[str, ...] = RL_TASKS  # intents mixed into the prompts: I0, I1+, I1-, I2<=, I2~, I2>=
    n_prompts: int = 2000  # prompts drawn (equal numbers per task) when no prompts_file is given
    k_min: int = 1  # list lengths k asked for in the prompts: uniform in k_min..k_max
    k_max: int = 10
    pool: dict | None = None  # the grounded mode's PoolConfig fields (ctrlrec.tasks.pool): prompts list
    #                          the teacher's candidates as SFT's did; None = the paper mode
    output_dir: str | None = None  # run directory; default runs/rl-<dataset>
    seed: int = 0
    # --- rollouts
    prompts_per_step: int = 8  # prompts per PPO batch
    responses_per_prompt: int = 2  # sampled responses per prompt (paper: 2)
    temperature: float = 0.7  # sampling temperature (paper: 0.7); log-probs, KL and entropy are taken
    #                           under the same tempered distribution the tokens were sampled from
    top_p: float = 1.0  # nucleus cut-off while sampling (1.0 = plain sampling)
    max_new_tokens: int = 160  # response length cap (a top-10 list of movie titles is ~110 tokens)
    rollout_batch_size: int = 16  # sequences per generate/forward call during rollouts
    # "free": the policy samples any text (the paper); "catalog": every line an exact title of the
    # prompt's candidates (the whole catalog in the paper mode), distinct, outside the history, k
    # lines then end of turn; log-probs, KL and entropy are taken under the same constraint
    rollout_decoding: str = "free"
    # --- rewards on tokens
    item_reward: bool = True  # R_item on the last token of each title; False = the paper's v3 ablation
    list_scale: float = 10.0  # R_list is multiplied by this on the last response token (paper: 10)
    # where list_scale * R_list goes: "last" (the last response token, the paper's placement) or
    # "titles" (split evenly over the tokens that end each title, so every title gets its share
    # without relying on GAE to carry it back ~100 tokens)
    list_credit: str = "last"
    kl_coef: float = 0.3  # eta: per-token penalty -eta*(log pi - log pi_ref) (paper: 0.3)
    whiten_rewards: bool = True  # scale per-token rewards to unit batch std, keeping their mean (TRL's rule)
    # --- PPO
    gamma: float = 0.99  # GAE discount (paper: 0.99)
    lam: float = 0.95  # GAE lambda (paper: 0.95)
    cliprange: float = 0.2  # policy ratio clip epsilon (paper: 0.2)
    cliprange_value: float = 0.2  # value clip around the rollout's values
    vf_coef: float = 0.5  # value-loss weight (paper: 0.5)
    ent_coef: float = 0.01  # entropy bonus weight (reference code: 0.01)
    ppo_epochs: int = 4  # passes over each batch (reference code: up to 4)
    mini_batch_size: int = 4  # sequences per gradient step within a PPO epoch
    target_kl: float = 0.1  # stop the PPO epochs of a batch once the mean approximate KL to the rollout
    #                         policy exceeds this (0 = never stop early)
    learning_rate: float = 5e-6  # AdamW learning rate of the actor (paper's code: 5e-6)
    critic_learning_rate: float | None = None  # the critic's and value head's (None = learning_rate)
    critic_warmup_steps: int = 0  # the first N PPO steps train the critic only (the actor waits
    #                               for values that are not ~0 before following their advantages)
    weight_decay: float = 0.0
    max_grad_norm: float = 1.0  # gradient clipping over actor, critic and value head together
    # --- adapters
    lora_r: int = 4  # actor and critic LoRA rank (paper: 4)
    lora_alpha: int = 2  # LoRA alpha (paper: 2)
    target_modules: str = "all-linear"  # LoRA targets (never the lm_head: the reference shares it)
    value_head_init_std: float = 0.0  # std of the value head's initial weights (0 = zeros: V starts at 0)
    # recompute each layer's activations in the update's backward pass: far less memory for long
    # prompts (a 4 x 1,277-token mini-batch of the 135M model: >21 GB without, 14.3 GB with;
    # docs/log/2026-12.md), ~1.4x the update's time; the rollout is unaffected. The backward recomputes
    # with the adapter active at that moment, so each forward is backpropagated before the next
    # adapter switch (ppo_update does so)
    gradient_checkpointing: bool = False
    # Every forward runs each distinct prompt once and its responses on its KV cache (rl/prefix.py).
    # True: the exact PPO gradient, through the prompt too. False: no gradient through the prompt's
    # activations (cosine ~0.67 to the exact one on the bundled model), a backward ~5x cheaper on
    # 600-token prompts; the log-probs, ratios and KL are the same (docs/results.md, "RL")
    prompt_grad: bool = True
    # --- run length, checkpoints, logging
    steps: int = 100  # PPO batches (rollout + update) to run
    time_budget_min: float | None = None  # stop (after a checkpoint) once this many minutes have passed
    save_every: int = 5  # steps between checkpoints (a resume restarts after the latest one)
    keep_checkpoints: int = 2  # checkpoints kept on disk
    tensorboard: bool = True  # also write TensorBoard event files (the CSV is always written)
    device: str = "auto"  # auto, cpu, cuda
    precision: str = "auto"  # auto, fp32, bf16 (see ctrlrec.llm.device)
    threads: int | None = None  # torch CPU threads (None = torch's default)

    def check(self) -> None:
        for name in ("prompts_per_step", "responses_per_prompt", "max_new_tokens", "rollout_batch_size",
                     "ppo_epochs", "mini_batch_size", "lora_r", "lora_alpha", "steps", "save_every",
                     "keep_checkpoints", "n_prompts"):
            if getattr(self, name) < 1:
                raise CtrlrecError(f"{name} = {getattr(self, name)}: expected a positive integer")
        if not 1 <= self.k_min <= self.k_max:
            raise CtrlrecError(f"k range {self.k_min}..{self.k_max}: expected 1 <= k_min <= k_max")
        bad = [t for t in self.tasks if t not in RL_TASKS]
        if bad or not self.tasks:
            raise CtrlrecError(f"tasks {bad or '[]'}: expected a non-empty subset of {', '.join(RL_TASKS)}")
        if not (self.temperature > 0 and 0 < self.top_p <= 1):
            raise CtrlrecError("sampling: expected temperature > 0 and 0 < top_p <= 1")
        if not (0 <= self.gamma <= 1 and 0 <= self.lam <= 1):
            raise CtrlrecError("gamma and lam: expected values in [0, 1]")
        for name in ("cliprange", "cliprange_value", "learning_rate", "critic_learning_rate"):
            if getattr(self, name) is not None and getattr(self, name) <= 0:
                raise CtrlrecError(f"{name} = {getattr(self, name)}: expected a positive number")
        if self.critic_warmup_steps < 0:
            raise CtrlrecError(f"critic_warmup_steps = {self.critic_warmup_steps}: expected >= 0")
        if self.rollout_decoding not in ("free", "catalog"):
            raise CtrlrecError(f"rollout_decoding {self.rollout_decoding!r}: expected free or catalog")
        if self.list_credit not in ("last", "titles"):
            raise CtrlrecError(f"list_credit {self.list_credit!r}: expected last or titles")
        for name in ("kl_coef", "vf_coef", "ent_coef", "target_kl", "list_scale", "max_grad_norm"):
            if getattr(self, name) < 0:
                raise CtrlrecError(f"{name} = {getattr(self, name)}: expected a number >= 0")

    @property
    def batch_size(self) -> int:
        """Sequences per PPO batch."""
        return self.prompts_per_step * self.responses_per_prompt

    def run_dir(self) -> Path:
        return Path(self.output_dir or f"runs/rl-{self.dataset}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["tasks"] = list(self.tasks)
        return d

    @classmethod
    def from_toml(cls, path: str | Path | None = None, **overrides) -> PPOConfig:
        """Defaults, then the TOML file (top level or an [rl] table), then non-None overrides."""
        values = toml_values(cls, path, "rl", overrides)
        if "tasks" in values:
            values["tasks"] = tuple(values["tasks"])
        cfg = cls(**values)
        cfg.check()
        return cfg
