"""Ctrl-C: one line saying what was kept, exit 130, and no half-made dataset; at start-up too.

The items file is a named pipe, so `data prepare` blocks inside its read until the test sends
SIGINT: the interrupt lands mid-prepare by construction, not by timing.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from ctrlrec import paths

ENTRY = [sys.executable, "-c", "from ctrlrec.entry import main; main()"]


def _prepare_args(tmp_path: Path, *extra: str) -> list[str]:
    (tmp_path / "inter.csv").write_text("user_id,item_id,timestamp\nu1,1,1\nu1,2,2\nu2,1,3\n")
    fifo = tmp_path / "items.csv"
    if not fifo.exists():
        os.mkfifo(fifo)
    return ["data", "prepare", "csv", "--interactions", str(tmp_path / "inter.csv"),
            "--items", str(fifo), "--user-core", "0", "--item-core", "0", *extra]


def _spawn(cmd: list[str]) -> subprocess.Popen:
    return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _interrupt_mid_read(proc: subprocess.Popen, fifo: Path) -> tuple[int, str]:
    with open(fifo, "w") as w:  # returns once prepare has opened the pipe: it is past start-up
        w.write("item_id,title,categories\n1,Alpha,X\n")
        w.flush()
        time.sleep(0.3)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=60)
    return proc.returncode, err


def test_ctrl_c_mid_prepare_says_nothing_was_written(tmp_path):
    args = _prepare_args(tmp_path)
    rc, err = _interrupt_mid_read(_spawn([sys.executable, "-m", "ctrlrec.cli", *args]),
                                  tmp_path / "items.csv")
    assert rc == 130 and "Traceback" not in err
    assert err.strip().splitlines() == ["interrupted: dataset 'csv' not prepared; nothing was written"]
    root = paths.home() / "datasets"
    assert not (root / "csv").exists() and not list(root.glob(".csv*"))


def test_ctrl_c_mid_prepare_keeps_the_existing_dataset(tmp_path):
    args = _prepare_args(tmp_path, "--force")
    (tmp_path / "items2.csv").write_text("item_id,title,categories\n1,Alpha,X\n2,Beta,Y\n")
    first = [a if a != str(tmp_path / "items.csv") else str(tmp_path / "items2.csv") for a in args]
    done = subprocess.run([sys.executable, "-m", "ctrlrec.cli", *first], capture_output=True,
                          text=True)
    assert done.returncode == 0, done.stderr
    meta = paths.dataset_dir("csv") / "meta.json"
    before = meta.read_text()
    rc, err = _interrupt_mid_read(_spawn([sys.executable, "-m", "ctrlrec.cli", *args]),
                                  tmp_path / "items.csv")
    assert rc == 130
    assert err.strip().splitlines() == [
        f"interrupted: dataset 'csv' not prepared; the existing one in {paths.dataset_dir('csv')} "
        "is unchanged"]
    assert meta.read_text() == before


def _loaded(pid: int, library: str) -> bool:
    try:
        return library in Path(f"/proc/{pid}/maps").read_text()
    except OSError:
        return False


def test_ctrl_c_during_start_up_is_one_line(tmp_path):
    proc = _spawn([*ENTRY, *_prepare_args(tmp_path)])
    # numpy's core is loaded while the command tree is imported (pandas, typer, the stages),
    # after the entry point has set its handler and ~1 s before the command runs
    deadline = time.monotonic() + 60
    while not _loaded(proc.pid, "_multiarray_umath") and time.monotonic() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "Traceback" not in err
    assert err.strip().splitlines() == ["interrupted while starting; nothing was done"]
