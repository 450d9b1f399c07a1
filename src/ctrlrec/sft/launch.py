"""SFT under `accelerate launch` (several GPUs or machines): the pipeline writes the resolved SFTConfig
as JSON and starts `accelerate launch [settings] -m ctrlrec.sft.launch CONFIG.json`; each process
builds the same Trainer, which takes its rank from the environment accelerate sets.

    python -m ctrlrec.sft.launch runs/pipeline-ml-1m/sft/sft-config.json
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from ctrlrec.errors import CtrlrecError
from ctrlrec.sft.config import SFTConfig


def launch_command(config_json: Path, num_processes: int = 1, mixed_precision: str = "no",
                   config_file: str | None = None, cpu: bool = False,
                   extra: tuple[str, ...] = ()) -> list[str]:
    """The `accelerate launch` command line that trains the SFT config in `config_json`."""
    if num_processes < 1:
        raise CtrlrecError(f"[launch] num_processes = {num_processes}: expected a positive integer")
    if mixed_precision not in ("no", "fp16", "bf16"):
        raise CtrlrecError(f"[launch] mixed_precision = {mixed_precision!r}: expected no, fp16 or bf16")
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--num_processes", str(num_processes),
           "--mixed_precision", mixed_precision]
    if num_processes > 1:
        cmd.append("--multi_gpu")
    if config_file:
        cmd += ["--config_file", str(config_file)]
    if cpu:
        cmd.append("--cpu")
    return [*cmd, *extra, "-m", "ctrlrec.sft.launch", str(config_json)]


def main(argv: list[str] | None = None) -> None:
    from ctrlrec.sft.cli import _evaluator
    from ctrlrec.sft.trainer import train

    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        raise SystemExit("usage: python -m ctrlrec.sft.launch CONFIG.json")
    path = Path(args[0])
    try:
        cfg = SFTConfig(**json.loads(path.read_text()))
    except (OSError, ValueError, TypeError) as exc:
        raise SystemExit(f"{path}: expected the JSON of an SFTConfig ({exc})") from None
    train(cfg, _evaluator(cfg.dataset) if cfg.dataset else None, resume=True, progress=True)


if __name__ == "__main__":
    main()
