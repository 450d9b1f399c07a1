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


def test_prepare_reports_title_merges_and_show_separates_categories(tmp_path):
    (tmp_path / "inter.csv").write_text(
        "user_id,item_id,timestamp\nu1,1,1\nu1,2,2\nu1,3,3\nu2,1,4\nu2,3,5\nu2,2,6\n")
    (tmp_path / "items.csv").write_text(
        "item_id,title,categories\n1,12 Angry Men,Drama\n2,12 Angry Men,Drama|Crime\n"
        '3,Fargo,"Crime, Drama"\n')
    base = ["data", "prepare", "csv", "--interactions", str(tmp_path / "inter.csv"),
            "--items", str(tmp_path / "items.csv"), "--user-core", "0", "--item-core", "0"]
    r = runner.invoke(app, base)
    assert r.exit_code == 0, r.output
    out = " ".join(r.output.split())
    assert "merged by title: 1 items, e.g. 12 Angry Men" in out and "--year-col" in out
    r = runner.invoke(app, ["data", "show", "csv", "--user", "0"])
    # a category holding ", " (Amazon's prefixes) stays readable: categories are joined by " | "
    assert r.exit_code == 0 and "Crime, Drama" in r.output and "Drama | Crime" in r.output
