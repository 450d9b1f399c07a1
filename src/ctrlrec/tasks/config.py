"""Configs of the instruction-data stage. Every default is documented where it is defined."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from ctrlrec.tasks.pool import PoolConfig

# The paper's Table 8 (Movie): I0 13,218 = #users; I1+ and I1- 6,609 each = #users/2; each I2 variant
# 4,406 = #users/3; I3 18,744 = #items; I4 29,199 = a third of all samples. Sizes below are those
# multipliers; `sizes` overrides them with absolute counts per task.
PAPER_MIX = {"I0": 1.0, "I1+": 0.5, "I1-": 0.5, "I2<=": 1 / 3, "I2~": 1 / 3, "I2>=": 1 / 3}
TASKS = ("I0", "I1+", "I1-", "I2<=", "I2~", "I2>=", "I3", "I3r", "I4")


@dataclass
class TaskConfig:
    """How training samples are drawn.

    scale: multiplies every default size (the paper's Table 8 proportions).
    sizes: absolute sample counts per task (keys from TASKS), overriding the defaults.
    k_min/k_max: list lengths of I0, I1 and I3 (paper: 1..10).
    i2_k: list lengths of I2 samples (paper: 10); count phrasings only for k with exact k*m.
    i2_proportions: proportions m used in I2 prompts.
    history_max: items of history shown in a prompt (paper: 10); the teacher sees up to its max_len.
    history_window: "random" (a random 1..history_max window, the paper's code) or "last" (the last
        history_max items, as every test prompt shows).
    pool: the grounded mode's candidate pool (`ctrlrec.tasks.pool`); mode "paper" lists none.
    target_positions: "train" (any position inside the training sequences: the paper) or "heldout"
        (each user's validation item, which the teacher did not train on: its pools there hold the
        target as often as at test time).
    exclude_users: users never drawn for history samples (the pipeline passes the users of the
        validation cases when target_positions is "heldout").
    group: history samples per target position (1: each sample its own position). With more, the
        samples of a group share one history and, in the grounded mode, one pool, and carry distinct
        tasks (I0, I1+, I1-, I2...): the same candidates with different instructions and different
        answers, which SFT's "shared" batching trains with the shared prompt run once.
    candidate_share: share of I0/I1/I3 samples in the "select from candidates" variant.
    n_candidates: candidates listed in such a prompt (labels plus random negatives).
    i1_pos_target_category: probability that an I1+ category is one of the target's categories
        (else uniform over categories, as the paper's code).
    i3_reverse_share: the reverse question ("which categories is X?") as a share of I3 samples.
    i4_share: general conversation samples as a share of all samples (paper: 1/3), used when a
        general-conversation file is given.
    """

    seed: int = 0
    scale: float = 1.0
    sizes: dict[str, int] = field(default_factory=dict)
    k_min: int = 1
    k_max: int = 10
    i2_k: tuple[int, ...] = (10,)
    i2_proportions: tuple[float, ...] = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9)
    history_max: int = 10
    history_window: str = "random"
    pool: PoolConfig = field(default_factory=PoolConfig)
    target_positions: str = "train"
    exclude_users: tuple[int, ...] = ()
    group: int = 1
    candidate_share: float = 0.1
    n_candidates: int = 20
    i1_pos_target_category: float = 0.5
    i3_reverse_share: float = 0.25
    i4_share: float = 1 / 3
    i4_max_repeat: int = 4  # each general conversation appears at most this often (small files)
    batch: int = 1024
    label_top: int = 256  # labels are picked from the teacher's top items; a full ranking only when short

    def __post_init__(self) -> None:
        if isinstance(self.pool, dict):
            self.pool = PoolConfig(**self.pool)
        if self.target_positions not in ("train", "heldout"):
            raise ValueError(f"target_positions {self.target_positions!r}: expected train or heldout")
        if self.history_window not in ("random", "last"):
            raise ValueError(f"history_window {self.history_window!r}: expected random or last")
        if self.group < 1:
            raise ValueError(f"group = {self.group}: expected a number of samples per position >= 1")
        self.pool.check()

    def resolved_sizes(self, n_users: int, n_items: int, has_general: bool) -> dict[str, int]:
        out = {t: round(m * n_users * self.scale) for t, m in PAPER_MIX.items()}
        n_i3 = round(n_items * self.scale)
        out["I3r"] = round(n_i3 * self.i3_reverse_share)
        out["I3"] = n_i3 - out["I3r"]
        rest = sum(out.values())
        out["I4"] = round(rest * self.i4_share / (1 - self.i4_share)) if has_general else 0
        for key, val in self.sizes.items():
            if key not in TASKS:
                raise ValueError(f"unknown task {key!r} in sizes; expected one of {', '.join(TASKS)}")
            out[key] = int(val)
        return out

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class TestsetConfig:
    """The fixed test sets (one per dataset and seed) and the validation set.

    teacher_top: length of the teacher ranking stored with each case (titles and ids); items
        beyond it get rank = catalog size when a case file is scored.
    valid_per_task: validation cases per task (paper: 320 each of I0, I1+, I1-, I2~50%).
    count_k: k range of the count test (paper: 11..15).
    pool: the candidate pool stored with every case (`ctrlrec.tasks.pool`), so that one fixed test
        set serves the paper mode (its `messages`) and the grounded mode (`messages_grounded`).
    """

    __test__ = False  # not a pytest class, despite the name

    seed: int = 0
    history_max: int = 10
    teacher_top: int = 100
    valid_per_task: int = 320
    count_k: tuple[int, int] = (11, 15)
    limit_users: int | None = None
    pool: PoolConfig = field(default_factory=PoolConfig)

    def __post_init__(self) -> None:
        if isinstance(self.pool, dict):
            self.pool = PoolConfig(**self.pool)
        self.pool.check()

    def to_dict(self) -> dict:
        return asdict(self)
