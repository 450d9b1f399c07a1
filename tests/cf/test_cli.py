from typer.testing import CliRunner

from ctrlrec.cf.text import encode, item_texts
from ctrlrec.cli import app
from tests.cf.synth import fake_encoder, tiny_dataset


def test_train_eval_and_compare_commands(tmp_path):
    ds = tiny_dataset()
    encode(item_texts(ds.catalog), "all-MiniLM-L6-v2", encode_fn=fake_encoder)
    r = CliRunner().invoke(app, ["cf", "train", "--dataset", "tiny", "--model", "biasmf",
                                 "--epochs", "2", "--dim", "8", "--threads", "1",
                                 "--out", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    assert "recall@20" in r.output
    r = CliRunner().invoke(app, ["cf", "eval", str(tmp_path / "run")])
    assert r.exit_code == 0, r.output
    r = CliRunner().invoke(app, ["cf", "compare", "--dataset", "tiny", "--models", "biasmf,ncf",
                                 "--split", "random,cold-item", "--epochs", "2", "--threads", "1",
                                 "--out", str(tmp_path / "cmp")])
    assert r.exit_code == 0, r.output
    table = (tmp_path / "cmp" / "table.md").read_text()
    assert table.count("\n") == 2 + 2 * 3 and "| cold-item | NCF |" in table
    assert "| random | popularity |" in table
    assert (tmp_path / "cmp" / "chart.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_over_training_seeds_gives_mean_and_std_over_one_split(tmp_path):
    import json

    ds = tiny_dataset()
    encode(item_texts(ds.catalog), "all-MiniLM-L6-v2", encode_fn=fake_encoder)
    args = ["cf", "compare", "--dataset", "tiny", "--models", "biasmf", "--side", "none", "--epochs", "2",
            "--threads", "1", "--seed", "3", "--out", str(tmp_path / "cmp")]
    assert CliRunner().invoke(app, args).exit_code == 0
    one = (tmp_path / "cmp" / "random-biasmf-none" / "metrics.json").read_text()
    r = CliRunner().invoke(app, [*args, "--seeds", "3,5,6"])
    assert r.exit_code == 0, r.output
    # seed 3 is the one-seed run, read back untouched; 5 and 6 are new runs over seed 3's split
    assert (tmp_path / "cmp" / "random-biasmf-none" / "metrics.json").read_text() == one
    shas = {json.loads((tmp_path / "cmp" / d / "config.json").read_text())["train_sha256"]
            for d in ("random-biasmf-none", "random-biasmf-none-s5", "random-biasmf-none-s6")}
    assert len(shas) == 1
    rows = [r for r in json.loads((tmp_path / "cmp" / "results.json").read_text())["rows"]
            if r["model"] == "biasmf"]
    assert sorted(r["seed"] for r in rows) == [3, 5, 6]
    vals = [r["recall@20"] for r in rows]
    mean = sum(vals) / 3
    std = (sum((v - mean) ** 2 for v in vals) / 2) ** 0.5
    table = (tmp_path / "cmp" / "table.md").read_text()
    assert f"| random | BiasMF | {mean:.4f} ± {std:.4f} |" in table
    assert "training seeds 3, 5, 6" in table
    bad = CliRunner().invoke(app, [*args, "--seeds", "3,x"])
    assert bad.exit_code != 0 and "--seeds 3,x" in str(bad.exception)


def test_bad_split_is_one_clear_error():
    r = CliRunner().invoke(app, ["cf", "compare", "--dataset", "tiny", "--split", "weird"])
    assert r.exit_code != 0
    assert "weird" in str(r.exception)


def test_compare_does_not_read_back_a_run_of_other_settings(tmp_path):
    ds = tiny_dataset()
    encode(item_texts(ds.catalog), "all-MiniLM-L6-v2", encode_fn=fake_encoder)
    args = ["cf", "compare", "--dataset", "tiny", "--models", "biasmf", "--side", "none", "--epochs", "2",
            "--out", str(tmp_path / "cmp")]
    assert CliRunner().invoke(app, [*args, "--threads", "1"]).exit_code == 0
    first = (tmp_path / "cmp" / "random-biasmf-none" / "metrics.json").read_text()
    # where it runs does not matter: read back as it is
    again = CliRunner().invoke(app, [*args, "--threads", "2"])
    assert again.exit_code == 0, again.output
    assert (tmp_path / "cmp" / "random-biasmf-none" / "metrics.json").read_text() == first
    # another learning rate would compute something else: one error naming the run and the setting
    other = CliRunner().invoke(app, [*args, "--threads", "1", "--lr", "0.05"])
    assert other.exit_code != 0
    msg = str(other.exception)
    assert "random-biasmf-none" in msg and "lr=0.005 (asked 0.05)" in msg and "--out" in msg
    assert (tmp_path / "cmp" / "random-biasmf-none" / "metrics.json").read_text() == first
