"""Device and precision, chosen once per run and passed down (no `.cuda()` anywhere else).

`auto` picks CUDA when present, else the CPU; bf16 on a CUDA GPU that supports it, fp32 otherwise.
On the CPU `auto` means fp32 even where the CPU has AVX512-BF16/AMX: measured here (torch 2.13, 2
cores), a LoRA step of 4 x 256 tokens on SmolLM2-135M took ~35 s with bf16 frozen weights and fp32
adapters against ~7-10 s in fp32 (the mixed-dtype LoRA path is slow on CPU). Ask for bf16 explicitly
to use it anyway.
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


def choose(device: str = "auto", precision: str = "auto") -> Placement:
    """Resolve `device` ("auto", "cpu", "cuda") and `precision` ("auto", "fp32", "bf16")."""
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
            precision = "fp32"  # see the module docstring: bf16 LoRA on CPU measured 3-4x slower
    return Placement(device=device, precision=precision)
