"""Device and precision, chosen once per run and passed down (no `.cuda()` anywhere else).

`auto` picks CUDA when present, else the CPU; bf16 on a CUDA GPU that supports it, fp32 otherwise.
On the CPU `auto` means fp32 even where the CPU has AVX512-BF16/AMX: measured here (torch 2.13, 2
cores), a LoRA step of 4 x 256 tokens on SmolLM2-135M took ~35 s with bf16 frozen weights and fp32
adapters against ~7-10 s in fp32 (the mixed-dtype LoRA path is slow on CPU). Ask for bf16 explicitly
to use it anyway.

For inference only (`choose(..., inference=True)`: evaluation, the service), `auto` on a CPU means bf16
where the CPU computes it natively (the avx512_bf16 or amx_bf16 flag) and fp32 elsewhere: on an AVX2-
only CPU (AMD EPYC, 2 cores, 2026-12-04) bf16 greedy decoding of 32 grounded cases took ~10 min
against ~2 min in fp32.
"""

from __future__ import annotations

from dataclasses import dataclass

from ctrlrec.errors import CtrlrecError

_PRECISIONS = ("auto", "fp32", "bf16")


@dataclass(frozen=True)
class Placement:
    """Where a model lives and in which dtype its frozen weights are held."""

    device: str  # "cpu" or "cuda" (Accelerate assigns the local GPU under `accelerate launch`)
    precision: str  # "fp32" or "bf16"

    @property
    def dtype(self):
        import torch

        return torch.bfloat16 if self.precision == "bf16" else torch.float32


def cpu_bf16() -> bool:
    """Whether this CPU computes bf16 natively (Linux /proc/cpuinfo flags; False where unreadable)."""
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = next((line.split(":", 1)[1].split() for line in fh if line.startswith("flags")), [])
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def choose(device: str = "auto", precision: str = "auto", inference: bool = False) -> Placement:
    """Resolve `device` ("auto", "cpu", "cuda") and `precision` ("auto", "fp32", "bf16"); with
    `inference`, "auto" on a CPU is bf16 where the CPU has native bf16 (see the module docstring)."""
    import torch

    if precision not in _PRECISIONS:
        raise CtrlrecError(f"precision '{precision}': expected one of {', '.join(_PRECISIONS)}")
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device not in ("cpu", "cuda"):
        raise CtrlrecError(f"device '{device}': expected auto, cpu or cuda")
    if device == "cuda" and not torch.cuda.is_available():
        raise CtrlrecError("device 'cuda' was asked for but no CUDA GPU is visible")
    if precision == "auto":
        if device == "cuda":
            precision = "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        else:
            # see the module docstring: bf16 LoRA on CPU measured 3-4x slower; bf16 inference pays
            # only where the CPU has native bf16
            precision = "bf16" if inference and cpu_bf16() else "fp32"
    return Placement(device=device, precision=precision)
