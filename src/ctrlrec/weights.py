"""Model weights on disk: one safetensors file, written atomically; and the resumable training checkpoint
(weights, optimizer state, loop state) of the teacher and the CF models."""

from __future__ import annotations

import json
from pathlib import Path

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from ctrlrec.atomic import atomic_dir, atomic_file, write_json
from ctrlrec.errors import CtrlrecError


def save_weights(path: Path, state: dict[str, torch.Tensor]) -> None:
    """Write a state dict (moved to CPU, made contiguous) as safetensors; a reader never sees half."""
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    with atomic_file(path, "wb") as fh:
        fh.write(save_tensors(tensors))


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    """The tensors of a safetensors file; one clear error when it is missing."""
    if not Path(path).is_file():
        raise CtrlrecError(f"{path}: missing; expected model weights written by ctrlrec (safetensors)")
    return load_tensors(Path(path).read_bytes())


def save_checkpoint(run: Path, model: torch.nn.Module, opt: torch.optim.Optimizer,
                    state: dict) -> None:
    """Weights, optimizer state and loop state after a finished epoch, swapped in as one folder."""
    tensors = {f"model.{k}": v for k, v in model.state_dict().items()}
    sd = opt.state_dict()
    for pid, st in sd["state"].items():
        for key, val in st.items():
            tensors[f"opt.{pid}.{key}"] = val if torch.is_tensor(val) else torch.tensor(val)
    with atomic_dir(run / "checkpoint") as tmp:
        save_weights(tmp / "state.safetensors", tensors)
        write_json(tmp / "state.json", {**state, "param_groups": sd["param_groups"]})


def load_checkpoint(run: Path, model: torch.nn.Module, opt: torch.optim.Optimizer) -> dict:
    """Restore model and optimizer in place; return the loop state saved with them."""
    ck = run / "checkpoint"
    if not (ck / "state.json").is_file():
        raise CtrlrecError(f"{run}: no checkpoint to resume from (expected {ck}/state.json); "
                           f"start without --resume")
    state = json.loads((ck / "state.json").read_text())
    tensors = load_weights(ck / "state.safetensors")
    device = next(model.parameters()).device
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    opt_state: dict[int, dict] = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, pid, key = k.split(".", 2)
            opt_state.setdefault(int(pid), {})[key] = v if key == "step" else v.to(device)
    opt.load_state_dict({"state": opt_state, "param_groups": state.pop("param_groups")})
    return state


def saved_config(run: Path, cls):
    """The config a run was started with (`config.json`), for `--resume`; one error when there is none."""
    meta = Path(run) / "config.json"
    if not meta.is_file():
        raise CtrlrecError(f"{run}: nothing to resume (no config.json); drop --resume")
    return cls.from_dict(json.loads(meta.read_text())["config"])
