"""The main job on tiny data with the tiny model: killed in the middle of SFT, resumed, completed."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys

import pytest

from ctrlrec.errors import CtrlrecError
from ctrlrec.pipeline.config import PipelineConfig
from ctrlrec.pipeline.runner import fingerprints, run_pipeline

CONFIG = """
[pipeline]
name = "tiny"
dataset = "tiny"
run_dir = "{run}"

[teacher]
epochs = 3
hidden = 16
max_len = 10
batch_size = 32

[tasks]
general = "none"
sizes = {{ I0 = 24, "I1+" = 8, "I1-" = 8, "I2<=" = 6, "I2~" = 6, "I2>=" = 6, I3 = 6, I3r = 2 }}

[testset]
valid_per_task = 4

[sft]
model = "{model}"
max_steps = {sft_steps}
batch_size = 4
grad_accum = 1
learning_rate = 1e-2
save_every = 2
eval_every = 0
eval_cases = 4
eval_max_new_tokens = 8
max_length = 256
precision = "fp32"
logging_steps = 1

[rl]
steps = 2
n_prompts = 8
prompts_per_step = 2
mini_batch_size = 2
rollout_batch_size = 4
max_new_tokens = 12
save_every = 1
tensorboard = false
precision = "fp32"

[eval]
models = ["popularity", "teacher", "oracle", "sft", "rl"]
tasks = ["I0", "I1-", "I2<=20%"]
limit = 3
max_new_tokens = 12
"""


@pytest.fixture
def setup(tmp_path, _isolated_home):
    from ctrlrec.data.store import save
    from tests.llm.tiny import tiny_model_dir
    from tests.tasks.tiny import tiny_dataset

    save(tiny_dataset(n_users=40, n_items=60))
    model = tiny_model_dir(tmp_path / "model")
    run = tmp_path / "run"

    def write(sft_steps: int = 40, **extra) -> str:
        path = tmp_path / "pipeline.toml"
        text = CONFIG.format(run=run, model=model, sft_steps=sft_steps)
        for table, line in extra.items():
            text = text.replace(f"[{table}]\n", f"[{table}]\n{line}\n", 1)
        path.write_text(text)
        return str(path)

    return run, write


def _cli_killed_after_first_checkpoint(config: str, env: dict, log) -> subprocess.Popen:
    """The CLI in a subprocess that SIGKILLs itself right after SFT marks its first checkpoint
    complete (a patch of `CheckpointMarker.on_save` in that process only): a real kill at a known
    point, with no polling. Progress bars go to `log` (a pipe could fill up and block it)."""
    code = (
        "import os, signal, sys\n"
        "from ctrlrec.sft.callbacks import CheckpointMarker\n"
        "_save = CheckpointMarker.on_save\n"
        "def on_save(self, *a, **k):\n"
        "    _save(self, *a, **k)\n"
        "    os.kill(os.getpid(), signal.SIGKILL)\n"
        "CheckpointMarker.on_save = on_save\n"
        "from ctrlrec.cli import main\n"
        "sys.argv = ['ctrlrec'] + sys.argv[1:]\n"
        "main()\n"
    )
    return subprocess.Popen([sys.executable, "-c", code, "pipeline", "--config", config], env=env,
                            stdout=subprocess.DEVNULL, stderr=log)


def test_killed_in_sft_resumes_and_completes(setup):
    run, write = setup
    config = write()
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    log_path = run.parent / "pipeline.log"
    with open(log_path, "w") as log:
        proc = _cli_killed_after_first_checkpoint(config, env, log)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL, (
        f"the run was not killed at an SFT checkpoint: {log_path.read_text()[-2000:]}")
    assert any((run / "sft" / "checkpoints").glob("checkpoint-*/ctrlrec-complete"))
    killed = json.loads((run / "pipeline.json").read_text())["stages"]
    assert killed["sft"]["status"] == "running" and "rl" not in killed
    assert all(killed[s]["status"] == "done" for s in ("data", "teacher", "tasks"))

    mf = run_pipeline(PipelineConfig.from_toml(config), progress=False)
    stages = mf["stages"]
    assert set(stages) == {"data", "teacher", "tasks", "sft", "rl", "eval", "report"}
    assert all(r["status"] == "done" for r in stages.values())
    assert stages["sft"]["attempts"] == 2 and stages["teacher"]["attempts"] == 1
    assert stages["sft"]["result"]["resumed_from"], "SFT started over instead of resuming"
    assert stages["sft"]["result"]["steps"] == 40
    assert (run / "rl" / "merged").is_dir() and (run / "report" / "report.html").is_file()
    assert set(stages["eval"]["result"]) == {"popularity", "teacher", "oracle", "sft", "rl"}
    md = (run / "report" / "report.md").read_text()
    assert "ctrlrec SFT+RL" in md and "oracle controller" in md
    assert mf["versions"]["torch"] and mf["config"]["dataset"] == "tiny"

    # a second call finds everything complete; a changed SFT config reruns SFT and what follows only
    again = run_pipeline(PipelineConfig.from_toml(config), progress=False)["stages"]
    assert {s: r["attempts"] for s, r in again.items()} == {s: r["attempts"] for s, r in stages.items()}
    before = fingerprints(PipelineConfig.from_toml(config))
    after = fingerprints(PipelineConfig.from_toml(write(sft_steps=4)))  # rewrites the same file
    assert [s for s in before if before[s] != after[s]] == ["sft", "rl", "eval", "report"]


def test_bad_configs_are_named(setup, tmp_path):
    _, write = setup
    with pytest.raises(CtrlrecError, match=r"\[sft\].*unknown keys \['learnin_rate'\]"):
        PipelineConfig.from_toml(write(sft="learnin_rate = 1"))
    with pytest.raises(CtrlrecError, match="stages"):
        PipelineConfig.from_dict({"pipeline": {"name": "x", "dataset": "y", "stages": ["sft", "deploy"]}})
    with pytest.raises(CtrlrecError, match="needs `dataset`"):
        PipelineConfig.from_dict({"pipeline": {"name": "x"}})
    with pytest.raises(CtrlrecError, match="not prepared"):
        run_pipeline(PipelineConfig.from_dict({"pipeline": {"name": "x", "dataset": "nothing",
                                                            "run_dir": str(tmp_path / "r")}}),
                     progress=False)


def test_grounded_mode_runs_end_to_end_and_decodes_inside_the_pool(setup):
    run, write = setup
    config = write(sft_steps=6, sft='finetune = "full"',
                   pipeline='stages = ["data", "teacher", "tasks", "sft", "eval", "report"]')
    text = open(config).read().replace(
        '[eval]\nmodels = ["popularity", "teacher", "oracle", "sft", "rl"]',
        '[eval]\nmodels = ["teacher", "pool-copy", "pool-random", "pool-oracle", "sft"]\n'
        'variants = ["guaranteed+teacher", "free@shuffled"]\n'
        'variant_tasks = { "free@shuffled" = ["I0"] }\nguidance = 2.0\nbatch_size = 8\n'
        'constrained_batch_size = 1')
    text += '\n[pool]\nmode = "grounded"\nn_top = 12\nper_category = 2\nhistory = 0\n'
    open(config, "w").write(text)
    mf = run_pipeline(PipelineConfig.from_toml(config), progress=False)
    stages = mf["stages"]
    assert all(r["status"] == "done" for r in stages.values())
    assert set(stages["eval"]["result"]) == {"teacher", "pool-copy", "pool-random", "pool-oracle", "sft",
                                             "sft@guaranteed+teacher", "sft@free@shuffled"}
    sample = json.loads((run / "tasks" / "train.jsonl").read_text().splitlines()[0])
    assert sample["candidates"] and "Candidates, best first:" in sample["messages"][1]["content"]
    assert (run / "sft" / "model" / "config.json").is_file()  # full fine-tuning
    guided = json.loads((run / "eval" / "sft@guaranteed+teacher" / "summary.json").read_text())
    i1m = guided["sets"]["I1-"]["control"]
    assert i1m["guards"]["in_pool"] == 1.0  # every line of every list is a pool candidate
    assert i1m["metrics"]["NonExist"] == 0.0
    # constrained rows decode one prompt at a time (jump-forward); free rows keep [eval] batch_size
    gen = {row: json.loads((run / "eval" / row / "run.json").read_text())["recommender"]["generation"]
           for row in ("sft", "sft@guaranteed+teacher")}
    assert gen["sft"]["batch_size"] == 8 and gen["sft@guaranteed+teacher"]["batch_size"] == 1
    copy = json.loads((run / "eval" / "pool-copy" / "summary.json").read_text())
    teacher = json.loads((run / "eval" / "teacher" / "summary.json").read_text())
    # the pool lists the teacher's best first: copying its first k is the teacher's own list
    assert copy["sets"]["I0"]["control"]["metrics"]["HR"] == teacher["sets"]["I0"]["control"]["metrics"]["HR"]
    assert copy["sets"]["I0"]["control"]["guards"]["teacher_overlap"] == 1.0
    report = (run / "report" / "report.md").read_text()
    assert "at a glance" in report and "pool: random k" in report
