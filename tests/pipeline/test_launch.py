"""SFT started by `accelerate launch` (how a multi-GPU run is started), tried for real on one CPU process."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from ctrlrec.errors import CtrlrecError
from ctrlrec.sft.config import SFTConfig
from ctrlrec.sft.launch import launch_command
from tests.llm.tiny import tiny_model_dir, toy_samples


def test_launch_command_carries_the_settings(tmp_path):
    cmd = launch_command(tmp_path / "c.json", 4, "bf16", "acc.yaml", extra=("--main_process_port", "29501"))
    assert cmd[cmd.index("--num_processes") + 1] == "4" and "--multi_gpu" in cmd
    assert cmd[cmd.index("--config_file") + 1] == "acc.yaml"
    assert cmd[-3:] == ["-m", "ctrlrec.sft.launch", str(tmp_path / "c.json")]
    assert cmd.index("--main_process_port") < cmd.index("ctrlrec.sft.launch")
    assert "--multi_gpu" not in launch_command(tmp_path / "c.json", 1)
    with pytest.raises(CtrlrecError, match="mixed_precision"):
        launch_command(tmp_path / "c.json", 2, "bf32")


def test_sft_trains_under_accelerate_launch(tmp_path):
    train = tmp_path / "train.jsonl"
    train.write_text("".join(json.dumps(s) + "\n" for s in toy_samples(4)))
    cfg = SFTConfig(model=str(tiny_model_dir(tmp_path)), train_file=str(train),
                    output_dir=str(tmp_path / "run"), max_steps=3, batch_size=2, grad_accum=1,
                    eval_every=0, save_every=3, precision="fp32", device="cpu", logging_steps=1)
    path = tmp_path / "sft-config.json"
    path.write_text(json.dumps(cfg.to_dict()))
    proc = subprocess.run(launch_command(path, 1, "no", cpu=True), capture_output=True, text=True,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert proc.returncode == 0, proc.stderr[-3000:]
    mf = json.loads((tmp_path / "run" / "manifest.json").read_text())
    assert mf["status"] == "done" and mf["steps"] == 3
    assert (tmp_path / "run" / "adapter" / "adapter_config.json").is_file()
