"""Checkpoints for resume: adapters, value head, optimizer, RNG and step, without pickle.

A checkpoint is a folder `checkpoints/step-000010/` written atomically:
actor/ and critic/ (peft adapter folders), value_head.safetensors, optimizer.safetensors (every
tensor of the optimizer state) with optimizer.json (the rest: param groups, scalar state), and
state.json (step, torch RNG state as a list of bytes, anything else the trainer keeps).
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

from ctrlrec.atomic import atomic_dir, write_json
from ctrlrec.errors import CtrlrecError

_NAME = re.compile(r"^step-(\d{6,})$")


def _optimizer_split(optimizer) -> tuple[dict, dict]:
    import torch

    sd = optimizer.state_dict()
    tensors, scalars = {}, {}
    for pid, st in sd["state"].items():
        for key, v in st.items():
            if isinstance(v, torch.Tensor):
                tensors[f"{pid}.{key}"] = v.detach().cpu().contiguous()
            else:
                scalars[f"{pid}.{key}"] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _optimizer_join(tensors: dict, meta: dict) -> dict:
    state: dict = {}
    for name, v in list(tensors.items()) + list(meta["scalars"].items()):
        pid, key = name.split(".", 1)
        state.setdefault(int(pid), {})[key] = v
    return {"state": state, "param_groups": meta["param_groups"]}


def save(run_dir: Path, step: int, policy, optimizer, extra: dict | None = None, keep: int = 2) -> Path:
    """Write checkpoint `step` and prune all but the newest `keep`."""
    import torch
    from safetensors.torch import save_file

    target = run_dir / "checkpoints" / f"step-{step:06d}"
    with atomic_dir(target) as tmp:
        policy.save(tmp)
        tensors, meta = _optimizer_split(optimizer)
        save_file(tensors, str(tmp / "optimizer.safetensors"))
        write_json(tmp / "optimizer.json", meta)
        write_json(tmp / "state.json", {"step": step, "torch_rng": torch.get_rng_state().tolist(),
                                        **(extra or {})})
    for old in list_checkpoints(run_dir)[:-keep]:
        shutil.rmtree(old, ignore_errors=True)
    return target


def list_checkpoints(run_dir: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    root = run_dir / "checkpoints"
    if not root.is_dir():
        return []
    found = [p for p in root.iterdir() if _NAME.match(p.name) and (p / "state.json").is_file()]
    return sorted(found, key=lambda p: int(_NAME.match(p.name).group(1)))


def load(folder: Path, policy, optimizer) -> dict:
    """Restore a checkpoint into `policy` and `optimizer`; returns its state.json (with `step`)."""
    import torch
    from safetensors.torch import load_file

    try:
        state = json.loads((folder / "state.json").read_text())
        meta = json.loads((folder / "optimizer.json").read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise CtrlrecError(f"{folder}: expected a complete RL checkpoint ({exc})") from exc
    policy.load(folder)
    device = next(iter(policy.parameters())).device
    optimizer.load_state_dict(_optimizer_join(load_file(str(folder / "optimizer.safetensors"),
                                                        device=str(device)), meta))
    torch.set_rng_state(torch.tensor(state["torch_rng"], dtype=torch.uint8))
    return state
