import pytest

from ctrlrec import paths
from ctrlrec.atomic import atomic_dir, atomic_file
from ctrlrec.data import registry, store
from ctrlrec.data.build import FilterConfig
from ctrlrec.errors import CtrlrecError
from tests.data import fixtures


def test_interrupted_prepare_leaves_old_dataset_intact(tmp_path, monkeypatch):
    raw = fixtures.movielens_100k(tmp_path / "raw")
    ds, _ = registry.prepare("ml-100k", raw, FilterConfig(0, 0))
    store.save(ds)
    before = store.load("ml-100k").interactions.copy()

    calls = {"n": 0}
    real = type(ds.interactions).to_parquet

    def crash(self, *a, **k):
        calls["n"] += 1
        if calls["n"] == 2:  # catalog written, interactions not
            raise KeyboardInterrupt
        return real(self, *a, **k)

    ds2, _ = registry.prepare("ml-100k", raw, FilterConfig(3, 3))
    with monkeypatch.context() as m:
        m.setattr(type(ds.interactions), "to_parquet", crash)
        with pytest.raises(KeyboardInterrupt):
            store.save(ds2)
    assert store.load("ml-100k").interactions.equals(before)
    leftovers = [p.name for p in paths.dataset_dir("ml-100k").parent.iterdir()]
    assert leftovers == ["ml-100k"]


def test_stale_temp_dir_is_cleaned(tmp_path):
    target = tmp_path / "d"
    (tmp_path / ".d.tmp-stale").mkdir()
    with atomic_dir(target) as tmp:
        (tmp / "x").write_text("1")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["d"]


def test_atomic_file_failure_keeps_old(tmp_path):
    f = tmp_path / "a.txt"
    f.write_text("old")
    with pytest.raises(RuntimeError), atomic_file(f) as fh:
        fh.write("half")
        raise RuntimeError
    assert f.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_load_unprepared_says_how_to_prepare():
    with pytest.raises(CtrlrecError, match="ctrlrec data prepare ml-1m"):
        store.load("ml-1m")


def test_atomic_writes_get_the_usual_modes_not_mkstemps_0600(tmp_path):
    import os
    import stat

    from ctrlrec.atomic import atomic_dir, atomic_file

    old = os.umask(0o022)
    try:
        with atomic_file(tmp_path / "a.txt") as fh:
            fh.write("x")
        with atomic_dir(tmp_path / "d") as d:
            (d / "f").write_text("y")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o644
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o755
