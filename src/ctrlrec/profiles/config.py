"""The configuration of the profile stages (build, train, rl): one dataclass, defaults documented here."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ctrlrec.errors import CtrlrecError


@dataclass
class ProfilesConfig:
    # --- data: the same dataset, split and seed as the CF run the profiles will be plugged into
    dataset: str = "ml-100k"          # prepared dataset name or folder
    split: str = "random"             # ctrlrec.cf.splits kind: profiles see its training pairs only
    seed: int = 2024                  # the CF run's seed (it fixes the split) and this stage's draws
    cold_share: float = 0.2           # cold-item split: share of items held out (as in the CF run)
    users: int = 0                    # profile only the first N users (0 = all); for smoke runs
    # --- neighbours
    m: int = 5                        # similar users per user
    cf_run: str | None = None         # LightGCN run on the same split and seed; None = text vectors
    encoder: str = "all-MiniLM-L6-v2"  # sentence encoder of the text fallback (and of the CF side)
    # --- prompts and generation
    model: str = "smollm2-135m"       # the model that writes profiles (a name, folder, SFT or RL run)
    history_cap: int = 20             # most recent items shown of the user's history
    neighbour_cap: int = 5            # items shown per neighbour
    item_users: int = 5               # user profiles shown in an item-profile prompt
    item_profiles: bool = True        # also write item profiles (items with training interactions)
    batch_size: int = 16              # prompts per generate call
    max_new_tokens: int = 48          # a fixed-shape profile is ~30 tokens
    constrain: bool = True            # shape-constrained decoding (constrain.py); False = free text
    # --- teacher and tuning (`profiles train`)
    teacher: str = "self"             # self (best-of-n), a local model, or an http(s) endpoint (/v1)
    teacher_model: str | None = None  # the served model's name, for an endpoint teacher
    best_of: int = 4                  # samples per user for the self teacher
    eval_share: float = 0.1           # users held out of tuning; round-2 accuracy is measured on them
    epochs: float = 1.0               # SFT epochs per round
    learning_rate: float = 1e-3       # SFT learning rate (LoRA)
    lora_r: int = 16                  # SFT LoRA rank
    sft_batch_size: int = 4           # SFT samples per forward pass
    grad_accum: int = 4               # SFT forward passes per optimiser step
    max_length: int = 2048            # SFT tokens per conversation (two rounds, 5 neighbours: ~1,400 on
    #                                   ml-100k with SmolLM2's tokenizer); longer ones are left out
    # --- RL refinement (`profiles rl`)
    rm_epochs: float = 1.0            # reward-model epochs
    rm_lora_r: int = 8                # reward-model LoRA rank
    rm_learning_rate: float = 1e-4    # reward-model learning rate
    rl_steps: int = 50                # PPO steps
    kl_coef: float = 0.1              # KL penalty to the tuned policy (the reference)
    shape_weight: float = 1.0         # reward added for a valid profile shape, subtracted otherwise
    # --- machine
    device: str = "auto"              # auto, cpu, cuda
    threads: int = 0                  # torch CPU threads (0 = torch default)

    def check(self) -> None:
        for name in ("m", "history_cap", "neighbour_cap", "batch_size", "max_new_tokens", "best_of",
                     "rl_steps", "lora_r", "rm_lora_r"):
            if getattr(self, name) < 1:
                raise CtrlrecError(f"{name} = {getattr(self, name)}: expected a positive integer")
        if not 0 <= self.eval_share < 1:
            raise CtrlrecError(f"eval_share = {self.eval_share}: expected a value in [0, 1)")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ProfilesConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
