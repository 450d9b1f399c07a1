"""train -> rl -> build -> show on a tiny model and tiny data (a smoke test of the wiring)."""

import json

from typer.testing import CliRunner

from ctrlrec.cli import app
from ctrlrec.profiles.config import ProfilesConfig
from ctrlrec.profiles.rl import refine
from ctrlrec.profiles.train import train
from tests.cf.synth import tiny_dataset
from tests.profiles.helpers import tiny_chat_dir


def test_train_rl_build_show(tmp_path, fake_text, stub_endpoint):
    tiny_dataset(n_users=12)
    base = tiny_chat_dir(tmp_path)
    url, calls = stub_endpoint  # the teacher: a "large model" behind an OpenAI-compatible endpoint
    cfg = ProfilesConfig(dataset="tiny", model=base, teacher=url, teacher_model="big", seed=3, m=2,
                         best_of=2, batch_size=8, max_new_tokens=6,
                         eval_share=0.25, epochs=1, sft_batch_size=4, grad_accum=1, max_length=2048,
                         rm_epochs=1, threads=1, device="cpu", history_cap=4, neighbour_cap=3)
    metrics = train(cfg, tmp_path / "t", progress=False)
    assert set(metrics["round2"]) == {"base", "single", "two-round"}
    assert metrics["teacher"] == f"big @ {url}" and metrics["held_out_users"] > 0
    assert len(calls) == 12  # one profile per user
    two = [json.loads(x) for x in (tmp_path / "t" / "two_round.jsonl").read_text().splitlines()]
    assert two and all(s["messages"][-1]["content"] in ("Yes", "No") for s in two)
    assert (tmp_path / "t" / "step3.jsonl").is_file()  # the single-round model's profiles
    two_manifest = json.loads((tmp_path / "t" / "two-round" / "manifest.json").read_text())
    assert two_manifest["config"]["model"] == str((tmp_path / "t" / "single" / "merged").resolve())
    marker = json.loads((tmp_path / "t" / "two-round" / "profiles.json").read_text())
    assert marker["prompt"] == "collaborative" and marker["teacher"] == f"big @ {url}"

    run = refine(cfg, str(tmp_path / "t" / "two-round"), tmp_path / "t", tmp_path / "rl", progress=False,
                 steps=1, prompts_per_step=2, responses_per_prompt=2, ppo_epochs=1, mini_batch_size=2,
                 learning_rate=3e-4, time_budget_min=30.0)
    assert (run / "merged" / "config.json").is_file() and (run / "reward" / "adapter").is_dir()
    rl_manifest = json.loads((run / "manifest.json").read_text())
    assert rl_manifest["steps"] == 1 and rl_manifest["ppo"]["time_budget_min"] == 30.0
    assert rl_manifest["ppo"]["learning_rate"] == 3e-4 and rl_manifest["ppo"]["prompts_per_step"] == 2
    acc = rl_manifest["reward_accuracy"]
    assert acc["train"]["of"] == rl_manifest["pairs"] and acc["held_out"]["pairs"] > 0
    assert 0 < acc["train"]["pairs"] <= acc["train"]["of"]
    assert 0.0 <= acc["held_out"]["accuracy"] <= 1.0
    # measured again for a finished run: the same pairs and the same scores
    r = CliRunner().invoke(app, ["profiles", "reward-eval", "--run", str(run)])
    assert r.exit_code == 0, r.output
    again = json.loads((run / "manifest.json").read_text())["reward_accuracy"]
    for side in ("train", "held_out"):
        assert again[side]["pairs"] == acc[side]["pairs"]
        assert abs(again[side]["margin"] - acc[side]["margin"]) < 1e-4
    assert "held_out" in r.output
    # a resumed run keeps its reward model and its measurement instead of scoring every pair again
    kept = {**again, "marker": "kept"}
    (run / "reward" / "accuracy.json").write_text(json.dumps(kept))
    refine(cfg, str(tmp_path / "t" / "two-round"), tmp_path / "t", tmp_path / "rl", progress=False,
           steps=1, prompts_per_step=2, responses_per_prompt=2, ppo_epochs=1, mini_batch_size=2,
           learning_rate=3e-4, time_budget_min=30.0)
    assert json.loads((run / "manifest.json").read_text())["reward_accuracy"] == kept

    r = CliRunner().invoke(app, ["profiles", "build", "--dataset", "tiny", "--model", str(run), "--seed", "3",
                                 "--m", "2", "--max-new-tokens", "6", "--threads", "1", "--device", "cpu",
                                 "--out", str(tmp_path / "p")])
    assert r.exit_code == 0, r.output
    manifest = json.loads((tmp_path / "p" / "manifest.json").read_text())
    assert manifest["prompt"] == "collaborative" and manifest["tuned"] == "rl"
    assert manifest["teacher"] == f"big @ {url}"
    r = CliRunner().invoke(app, ["profiles", "show", "--profiles", str(tmp_path / "p"), "--user", "1"])
    assert r.exit_code == 0, r.output
    assert "Love story" in r.output and "User identity" in r.output
    r = CliRunner().invoke(app, ["profiles", "show", "--profiles", str(tmp_path / "p"), "--user", "99"])
    assert r.exit_code != 0 and "--user 99" in str(r.exception)
