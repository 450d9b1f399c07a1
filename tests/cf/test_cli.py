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


def test_bad_split_is_one_clear_error():
    r = CliRunner().invoke(app, ["cf", "compare", "--dataset", "tiny", "--split", "weird"])
    assert r.exit_code != 0
    assert "weird" in str(r.exception)
