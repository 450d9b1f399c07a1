"""Bad inputs to `ctrlrec data prepare`: one-line error, exit 2, and no dataset folder left behind."""

import gzip
import os
import subprocess
import sys

import pytest
from typer.testing import CliRunner

from ctrlrec import paths
from ctrlrec.cli import app
from ctrlrec.data import store
from ctrlrec.errors import CtrlrecError
from tests.data import fixtures

runner = CliRunner()


def _cli_error(*args: str) -> str:
    """Run the real entry point (which turns CtrlrecError into one line + exit 2); return the line."""
    proc = subprocess.run([sys.executable, "-m", "ctrlrec.cli", *args], capture_output=True,
                          text=True, env=os.environ.copy())
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    return lines[0]


def _no_dataset_left(name: str) -> None:
    root = paths.home() / "datasets"
    assert not (root / name).exists()
    assert not list(root.glob(f".{name}.*")) if root.exists() else True


@pytest.mark.parametrize("kind", ["zero-bytes", "gzip-of-nothing"])
def test_empty_reviews_gz_is_refused(tmp_path, kind):
    raw = fixtures.steam(tmp_path / "raw")
    reviews = raw / "steam_reviews.json.gz"
    if kind == "zero-bytes":
        reviews.write_bytes(b"")
    else:
        with gzip.open(reviews, "wt"):
            pass
    line = _cli_error("data", "prepare", "steam", "--raw", str(raw))
    assert f"{reviews}: empty file" in line
    _no_dataset_left("steam")


def test_reviews_with_only_malformed_lines_is_refused(tmp_path):
    raw = fixtures.steam(tmp_path / "raw")
    fixtures.write_gz(raw / "steam_reviews.json.gz", ["not a literal {", "{u'username': u'x'}"])
    line = _cli_error("data", "prepare", "steam", "--raw", str(raw))
    assert "steam_reviews.json.gz: all 2 lines malformed" in line and "saved nothing" in line
    _no_dataset_left("steam")


def test_filter_that_keeps_nothing_names_the_counts_and_the_option(tmp_path):
    raw = fixtures.movielens_100k(tmp_path / "raw")
    line = _cli_error("data", "prepare", "ml-100k", "--raw", str(raw), "--user-core", "25",
                      "--item-core", "2")
    assert "no interactions left after '25-core users / 2-core items'" in line
    assert "raw: 6 users/9 items/33 interactions" in line  # counts before each step ...
    assert "25-core users / 2-core items: 0 users/0 items/0 interactions" in line  # ... and after
    assert "--user-core (now 25)" in line
    _no_dataset_left("ml-100k")


def test_store_refuses_to_save_or_load_a_dataset_of_zero_interactions(tmp_path):
    raw = fixtures.movielens_100k(tmp_path / "raw")
    assert runner.invoke(app, ["data", "prepare", "ml-100k", "--raw", str(raw), "--user-core",
                               "2", "--item-core", "2"]).exit_code == 0
    ds = store.load("ml-100k")
    ds.interactions = ds.interactions.iloc[:0]
    with pytest.raises(CtrlrecError, match="has 0 interactions; not saving"):
        store.save(ds, tmp_path / "empty-ds")
    assert not (tmp_path / "empty-ds").exists()
    # a folder written by an older ctrlrec with no interactions: refused on load, in one line
    d = paths.dataset_dir("ml-100k")
    ds.interactions.to_parquet(d / "interactions.parquet", index=False)
    with pytest.raises(CtrlrecError, match=r"dataset 'ml-100k' in .* has 0 interactions") as e:
        store.load("ml-100k")
    assert "\n" not in str(e.value)
    line = _cli_error("data", "stats", "ml-100k")
    assert "has 0 interactions" in line


def test_preparing_an_existing_name_needs_force(tmp_path):
    raw = fixtures.movielens_100k(tmp_path / "raw")
    args = ["data", "prepare", "ml-100k", "--raw", str(raw), "--user-core", "2",
            "--item-core", "2"]
    r = runner.invoke(app, args)
    assert r.exit_code == 0 and "replaced" not in r.output
    d = paths.dataset_dir("ml-100k")
    before = (d / "meta.json").read_text()
    line = _cli_error(*args, "--user-core", "3")
    assert f"dataset 'ml-100k' already exists in {d}; pass --force to replace it" in line
    assert (d / "meta.json").read_text() == before  # untouched
    r = runner.invoke(app, [*args, "--force"])
    assert r.exit_code == 0, r.output
    assert "replaced the existing dataset 'ml-100k'" in r.output.replace("\n", " ")
    # --out names the dataset: a new name needs no --force
    r = runner.invoke(app, [*args, "--out", "ml-small"])
    assert r.exit_code == 0 and "replaced" not in r.output


def test_a_folder_where_a_file_is_expected_says_so_in_the_cli(tmp_path):
    raw = fixtures.steam(tmp_path / "raw")
    reviews = raw / "steam_reviews.json.gz"
    reviews.unlink()
    reviews.mkdir()
    line = _cli_error("data", "prepare", "steam", "--raw", str(raw))
    assert f"{reviews}: is a folder, not a file" in line
    assert "file not found" not in line
    _no_dataset_left("steam")
