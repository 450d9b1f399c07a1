"""`ctrlrec crs` end to end on a tiny dataset and the tiny Llama: simulate -> sft-data -> rm train ->
sft -> rl -> eval, every artifact where the next command looks for it."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from ctrlrec.cli import app


@pytest.fixture
def setup(tmp_path):
    from ctrlrec.data import store
    from tests.crs.toy import toy_dataset
    from tests.llm.tiny import tiny_model_dir

    store.save(toy_dataset())
    return tmp_path, tiny_model_dir(tmp_path)


def _ok(args):
    res = CliRunner().invoke(app, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def test_crs_commands_end_to_end(setup):
    from ctrlrec.crs import dialogue

    tmp, model = setup
    sim, sft = tmp / "sim.jsonl", tmp / "sft.jsonl"
    out = _ok(["crs", "simulate", "--dataset", "toy", "--n", "6", "--out", str(sim), "--sft-out", str(sft),
               "--k", "3", "--turns", "2"])
    assert "wrote 6 dialogues" in out and len(dialogue.read(sim)) == 6
    rows = [json.loads(x) for x in sft.read_text().splitlines()]
    assert len(rows) == 6 and rows[0]["messages"][-1]["role"] == "assistant"
    _ok(["crs", "sft-data", str(sim), "--out", str(tmp / "again.jsonl"), "--k", "3"])
    assert (tmp / "again.jsonl").read_text() == sft.read_text()

    out = _ok(["crs", "rm", "train", str(sim), "--model", str(model), "--out", str(tmp / "rm"),
               "--steps", "3", "--batch-pairs", "2", "--max-length", "96", "--valid-share", "0.3"])
    assert "held-out pairwise accuracy" in out
    meta = json.loads((tmp / "rm" / "rm.json").read_text())
    assert meta["metrics"]["valid_pairs"] > 0 and 0 <= meta["metrics"]["valid_acc"] <= 1

    (tmp / "rl.toml").write_text("[crs]\nk = 3\nmax_new_tokens = 16\nppo_epochs = 1\nmini_batch_size = 2\n"
                                 "tensorboard = false\nsave_every = 1\n")
    (tmp / "sft.toml").write_text("[sft]\nbatch_size = 2\ngrad_accum = 1\nsave_every = 1\n")
    _ok(["crs", "sft", str(sft), "--model", str(model), "--out", str(tmp / "sft"), "--max-steps", "2",
         "--config", str(tmp / "sft.toml")])
    assert (tmp / "sft" / "adapter" / "adapter_config.json").is_file()
    _ok(["crs", "rl", "--config", str(tmp / "rl.toml"), "--sft", str(tmp / "sft"), "--rm", str(tmp / "rm"),
         "--dataset", "toy", "--out", str(tmp / "rl"), "--steps", "1", "--episodes", "2", "--turns", "2"])
    assert (tmp / "rl" / "merged" / "config.json").is_file()
    m = (tmp / "rl" / "metrics.csv").read_text()
    assert "turn1/reward" in m and "reward/rm" in m
    _ok(["rl", "plot", str(tmp / "rl")])
    assert (tmp / "rl" / "curves.png").stat().st_size > 0

    out = _ok(["crs", "eval", "--dataset", "toy", "--model", f"rl={tmp / 'rl'}", "--n", "3", "--k", "3",
               "--turns", "2", "--out", str(tmp / "eval"), "--mode", "catalog"])
    assert "| popularity |" in out and "| rl |" in out
    s = json.loads((tmp / "eval" / "rl" / "summary.json").read_text())
    assert s["n_dialogues"] == 3 and s["coherence"]["exist"] == 1.0  # catalog decoding: real titles only


def test_rm_train_names_the_bad_line(setup, tmp_path):
    """A malformed dialogue file is a CtrlrecError naming the file and line (exit 2 at the CLI)."""
    from ctrlrec.errors import InputFileError

    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"turns": []}\nnot json\n')
    res = CliRunner().invoke(app, ["crs", "rm", "train", str(bad)])
    assert isinstance(res.exception, InputFileError)
    assert "bad.jsonl: line 2" in str(res.exception)
