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
