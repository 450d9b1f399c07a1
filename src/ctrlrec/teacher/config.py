"""The teacher's configuration and the one place where device and precision are chosen."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields

import torch

from ctrlrec.errors import CtrlrecError


@dataclass
class TeacherConfig:
    """SASRec teacher hyper-parameters. Every field can be overridden from the CLI.

    The defaults are the benchmark's shared setting (RecBole's SASRec with dropout 0.2); the paper's
    teacher used max_len 10 and hidden 128 with the same 2 layers, 2 heads and full-softmax loss.
    """

    dataset: str = "ml-100k"
    """Prepared dataset name (in $CTRLREC_HOME) or folder."""
    max_len: int = 50
    """Most recent items the model sees; longer histories keep their last `max_len` items."""
    hidden: int = 64
    """Width of item/position embeddings and of the attention blocks."""
    layers: int = 2
    """Number of causal self-attention blocks."""
    heads: int = 2
    """Attention heads per block (must divide `hidden`)."""
    ffn_mult: int = 4
    """Feed-forward width as a multiple of `hidden` (4 x 64 = RecBole's inner_size 256)."""
    dropout: float = 0.2
    """Dropout on embeddings, attention weights and block outputs."""
    prenorm: bool = False
    """LayerNorm before each sub-layer (pre-LN) instead of after the residual (post-LN, SASRec)."""
    loss: str = "ce"
    """'ce': full-softmax cross-entropy over all items (the paper's teacher); 'bce': binary
    cross-entropy with `negatives` uniformly sampled negatives per position (original SASRec)."""
    negatives: int = 1
    """Sampled negatives per position for loss='bce'."""
    windows: str = "stride"
    """How long training sequences are cut into windows of max_len+1 items: 'stride' (default) cuts
    a window every `stride` items and learns only each window's last `stride` targets (every target
    once, each seen with at least max_len - stride items before it, as at test time; max_len/stride
    times the work of 'chunks'; on ml-100k it gave test NDCG@10 0.1139 against 0.1089, see
    docs/results.md), 'chunks' covers every position once per epoch (cut points shifted randomly
    each epoch; cheapest), 'last' keeps only the most recent window, 'random' one random window per
    sequence."""
    stride: int = 10
    """Distance between window ends for windows='stride' (a stride above max_len acts as max_len)."""
    batch_size: int = 256
    """Training windows per step."""
    lr: float = 1e-3
    """AdamW learning rate."""
    weight_decay: float = 0.0
    """AdamW weight decay (0 = plain Adam, RecBole's default)."""
    epochs: int = 200
    """Upper bound on epochs; early stopping usually ends training sooner."""
    patience: int = 10
    """Stop after this many epochs without a better validation NDCG@10."""
    eval_batch: int = 1024
    """Histories scored at once during validation and testing."""
    seed: int = 2024
    """Seed of parameter init, window sampling and dropout (re-seeded per epoch, so a resumed run
    repeats an uninterrupted one)."""
    device: str = "auto"
    """'auto' (CUDA if available, else CPU), 'cpu', 'cuda' or 'cuda:N'."""
    precision: str = "auto"
    """'auto' (bf16 autocast on CUDA that supports it, else fp32), 'fp32' or 'bf16'."""
    threads: int = 0
    """CPU threads for torch (0 = torch's default)."""

    def __post_init__(self) -> None:
        checks = [
            (self.max_len >= 1, "max_len", "an integer >= 1"),
            (self.hidden >= 1 and self.heads >= 1 and self.hidden % self.heads == 0,
             "hidden/heads", "hidden divisible by heads"),
            (self.layers >= 1, "layers", "an integer >= 1"),
            (0.0 <= self.dropout < 1.0, "dropout", "a value in [0, 1)"),
            (self.loss in ("ce", "bce"), "loss", "'ce' or 'bce'"),
            (self.negatives >= 1, "negatives", "an integer >= 1"),
            (self.windows in ("chunks", "stride", "last", "random"), "windows",
             "'chunks', 'stride', 'last' or 'random'"),
            (self.stride >= 1, "stride", "an integer >= 1"),
            (self.batch_size >= 1 and self.eval_batch >= 1, "batch_size", "an integer >= 1"),
            (self.lr > 0, "lr", "a positive number"),
            (self.epochs >= 1 and self.patience >= 1, "epochs/patience", "integers >= 1"),
            (self.precision in ("auto", "fp32", "bf16"), "precision", "'auto', 'fp32' or 'bf16'"),
        ]
        for ok, name, expected in checks:
            if not ok:
                raise CtrlrecError(f"teacher config {name}: expected {expected}")

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> TeacherConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(d) - known
        if unknown:
            raise CtrlrecError(f"teacher config: unknown field(s) {sorted(unknown)}; "
                               f"expected some of {sorted(known)}")
        return cls(**d)


@dataclass(frozen=True)
class Runtime:
    """The device and compute dtype, resolved once and passed down."""

    device: torch.device
    dtype: torch.dtype

    @classmethod
    def resolve(cls, device: str = "auto", precision: str = "auto", threads: int = 0) -> Runtime:
        if threads > 0:
            torch.set_num_threads(threads)
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            dev = torch.device(device)
        except RuntimeError as exc:
            raise CtrlrecError(f"device '{device}': expected auto, cpu, cuda or cuda:N") from exc
        if dev.type == "cuda" and not torch.cuda.is_available():
            raise CtrlrecError(f"device '{device}': CUDA is not available here; use --device cpu")
        if precision == "auto":
            bf16 = dev.type == "cuda" and torch.cuda.is_bf16_supported()
            precision = "bf16" if bf16 else "fp32"
        return cls(dev, torch.bfloat16 if precision == "bf16" else torch.float32)

    def autocast(self):
        """Mixed-precision context for forward passes (a no-op in fp32)."""
        return torch.autocast(self.device.type, dtype=self.dtype,
                              enabled=self.dtype != torch.float32)
