from typer.testing import CliRunner

from ctrlrec.data.store import save
from ctrlrec.teacher.cli import app


def test_train_eval_recommend(tmp_path, cyclic):
    data = save(cyclic, tmp_path / "cyclic")
    run = tmp_path / "run"
    cli = CliRunner()
    args = ["train", "--dataset", str(data), "--out", str(run), "--epochs", "3", "--hidden", "16",
            "--max-len", "8", "--threads", "1", "--device", "cpu"]
    res = cli.invoke(app, args)
    assert res.exit_code == 0, res.output
    assert "popularity" in res.output and (run / "model.safetensors").is_file()
    res = cli.invoke(app, args)  # the run exists: refuse without --resume/--overwrite
    assert res.exit_code != 0
    res = cli.invoke(app, ["train", "--dataset", str(data), "--out", str(run), "--resume"])
    assert res.exit_code == 0, res.output
    res = cli.invoke(app, ["eval", str(run), "--device", "cpu"])
    assert res.exit_code == 0 and "NDCG@10" in res.output
    res = cli.invoke(app, ["recommend", str(run), "--user", "3", "--k", "4", "--include", "Odd",
                           "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert "Item" in res.output and "Odd" in res.output


def test_resume_with_a_new_budget_but_not_a_new_model(tmp_path, cyclic):
    import json

    data = save(cyclic, tmp_path / "cyclic")
    run = tmp_path / "run"
    cli = CliRunner()
    base = ["train", "--dataset", str(data), "--out", str(run)]
    res = cli.invoke(app, [*base, "--epochs", "2", "--patience", "50", "--hidden", "16", "--max-len", "8",
                           "--threads", "1", "--device", "cpu"])
    assert res.exit_code == 0, res.output
    assert json.loads((run / "metrics.json").read_text())["epochs_run"] == 2
    before = (run / "config.json").read_text()
    res = cli.invoke(app, [*base, "--resume", "--hidden", "32"])  # would change the model: refused
    assert res.exit_code != 0
    msg = str(res.exception)
    assert "--hidden 32" in msg and "16" in msg and "--epochs" in msg
    assert (run / "config.json").read_text() == before
    res = cli.invoke(app, [*base, "--resume", "--epochs", "4", "--hidden", "16"])  # same value: fine
    assert res.exit_code == 0, res.output
    assert "epochs 2 -> 4" in res.output
    assert json.loads((run / "metrics.json").read_text())["epochs_run"] == 4
    assert json.loads((run / "config.json").read_text())["config"]["epochs"] == 4
