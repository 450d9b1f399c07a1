import subprocess
import sys

from typer.testing import CliRunner

from ctrlrec.cli import app
from tests.data import fixtures

runner = CliRunner()


def test_prepare_stats_show(tmp_path):
    raw = fixtures.movielens_100k(tmp_path / "raw")
    r = runner.invoke(app, ["data", "prepare", "ml-100k", "--raw", str(raw),
                            "--user-core", "2", "--item-core", "2"])
    assert r.exit_code == 0, r.output
    assert "2-core users" in r.output
    r = runner.invoke(app, ["data", "stats", "ml-100k"])
    assert r.exit_code == 0 and "prepared" in r.output and "sparsity" in r.output
    r = runner.invoke(app, ["data", "show", "ml-100k", "--user", "1"])
    assert r.exit_code == 0 and "Movie 1 (1991)" in r.output and "test" in r.output


def test_cli_user_error_is_one_line_without_traceback(tmp_path):
    env_cmd = [sys.executable, "-m", "ctrlrec.cli", "data", "prepare", "steam", "--raw",
               str(tmp_path / "missing")]
    proc = subprocess.run(env_cmd, capture_output=True, text=True)
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: ") and "steam_games.json.gz" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_help_lists_stages():
    r = runner.invoke(app, ["--help"])
    assert r.exit_code == 0 and "data" in r.output
