"""Merge a run's LoRA adapter into its base model: one plain model folder for serving or for RL."""

from __future__ import annotations

from pathlib import Path

from ctrlrec.atomic import atomic_dir, write_json
from ctrlrec.errors import CtrlrecError
from ctrlrec.llm.device import Placement
from ctrlrec.llm.models import load_any
from ctrlrec.manifest import manifest


def merge(run_dir: str | Path, which: str = "best", out: str | Path | None = None) -> Path:
    """Write `<run_dir>/merged` (or `out`): base weights with the `which` adapter folded in, in fp32."""
    run = Path(run_dir)
    if (
        not (run / which / "adapter_config.json").is_file()
        and not (run / "adapter" / "adapter_config.json").is_file()
    ):
        raise CtrlrecError(f"{run}: expected an SFT run folder with a '{which}/' or 'adapter/' LoRA adapter")
    src = which if (run / which / "adapter_config.json").is_file() else "adapter"
    model, tok = load_any(str(run / src), Placement("cpu", "fp32"))
    merged = model.merge_and_unload()
    target = Path(out) if out else run / "merged"
    with atomic_dir(target) as tmp:
        merged.save_pretrained(tmp, safe_serialization=True)
        tok.save_pretrained(tmp)
        write_json(tmp / "merge.json", manifest("sft-merge", {"run": str(run), "adapter": src}))
    return target
