"""A CF run directory. Tensors in safetensors, everything else in JSON; atomic writes.

run/
  config.json        {"config": CFConfig, "split": summary, "train_sha256": str}
  model.safetensors  best weights so far (side vectors included, as buffers)
  metrics.json       validation history, best epoch, test metrics
  manifest.json      config, seed, package versions
  checkpoint/        last finished epoch: state.safetensors (weights + Adam state), state.json
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

from ctrlrec.atomic import atomic_dir, atomic_file, write_json
from ctrlrec.errors import CtrlrecError


def save_weights(path: Path, state: dict[str, torch.Tensor]) -> None:
    tensors = {k: v.detach().to("cpu").contiguous() for k, v in state.items()}
    with atomic_file(path, "wb") as fh:
        fh.write(save_tensors(tensors))


def load_weights(path: Path) -> dict[str, torch.Tensor]:
    if not Path(path).is_file():
        raise CtrlrecError(f"{path}: missing; expected the weights of a CF run")
    return load_tensors(Path(path).read_bytes())


def pairs_sha(pairs: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(pairs, dtype=np.int64).tobytes()).hexdigest()


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
        raise CtrlrecError(f"{run}: no finished epoch to resume from (checkpoint/ is missing)")
    tensors = load_weights(ck / "state.safetensors")
    state = json.loads((ck / "state.json").read_text())
    model.load_state_dict({k[6:]: v for k, v in tensors.items() if k.startswith("model.")})
    opt_state: dict[int, dict] = {}
    for k, v in tensors.items():
        if k.startswith("opt."):
            _, pid, key = k.split(".", 2)
            opt_state.setdefault(int(pid), {})[key] = v
    opt.load_state_dict({"state": opt_state, "param_groups": state.pop("param_groups")})
    return state
