"""The configuration of one CF run: a dataclass whose every default is documented where it is set."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields


@dataclass
class CFConfig:
    dataset: str = "ml-100k"          # prepared dataset name or folder
    model: str = "lightgcn"           # biasmf, ncf, lightgcn, sgl or simgcl
    split: str = "random"             # random (80/10/10 per user), loo, snapshot or cold-item
    cold_share: float = 0.2           # cold-item split: share of items held out of training
    side: str = "none"                # none, text (title + categories through the text encoder) or
    #                                   profiles (LLM profiles of `ctrlrec profiles build`, docs/profiles.md)
    profiles: str | None = None       # side=profiles: the profiles build run (same dataset, split, seed)
    fuse: str = "sum"                 # how side projections join ID embeddings: sum or concat
    encoder: str = "all-MiniLM-L6-v2"  # text encoder (the bundled package's model)
    side_hidden: int = 256            # hidden width of the side-projection MLP
    init_std: float = 0.1             # std of the ID embeddings' normal init; 0 = Xavier normal
    #                                   (std sqrt(2 / (rows + dim)), as RecBole initialises)
    item_bias: bool = True            # BiasMF's item bias; False gives plain BPR-MF (RecBole's BPR)
    dim: int = 64                     # embedding width
    layers: int = 3                   # propagation layers of the graph models
    lr: float = 5e-3                  # Adam learning rate
    reg: float = 1e-4                 # L2 weight on the batch's layer-0 embeddings
    batch_size: int = 2048            # (user, positive, negative) triples per step
    epochs: int = 100                 # most epochs
    patience: int = 5                 # epochs without a better validation metric before stopping
    valid_metric: str = "recall@20"   # early-stopping metric
    ssl_weight: float | None = None   # contrastive weight (None: 0.1 for SGL, 0.2 for SimGCL)
    ssl_warmup: int = 0               # epochs over which the contrastive weight ramps up from 0
    #                                   (linearly; 0 = full weight from the first step)
    ssl_temp: float = 0.2             # InfoNCE temperature
    edge_drop: float = 0.1            # SGL: share of edges dropped in each view
    noise_eps: float = 0.1            # SimGCL: length of the per-layer noise
    seed: int = 2024                  # seeds the split, the initialisation and the sampler
    split_seed: int | None = None     # seeds the split alone when set (None: `seed`), so runs that
    #                                   differ in `seed` can share one split (`cf compare --seeds`)
    device: str = "auto"              # auto, cpu, cuda or cuda:N
    threads: int = 0                  # CPU threads (0 = torch default)

    def seed_of_split(self) -> int:
        return self.seed if self.split_seed is None else self.split_seed

    def to_dict(self) -> dict:
        return asdict(self)

    def differences(self, old: CFConfig) -> list[str]:
        """Where a run started with `old` would compute something else than this config, as
        'name=old (asked value)'. Where and how fast it ran (device, threads) does not count, nor
        whether the split's seed was given apart from the training seed."""
        out = [f"{f.name}={getattr(old, f.name)!r} (asked {getattr(self, f.name)!r})"
               for f in fields(self) if f.name not in ("device", "threads", "split_seed")
               and getattr(old, f.name) != getattr(self, f.name)]
        if old.seed_of_split() != self.seed_of_split():
            out.append(f"split seed={old.seed_of_split()} (asked {self.seed_of_split()})")
        return out

    @classmethod
    def from_dict(cls, d: dict) -> CFConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})
