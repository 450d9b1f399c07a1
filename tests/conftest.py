import pytest


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path, monkeypatch):
    """Every test gets its own empty CTRLREC_HOME, so nothing touches the user's cache."""
    home = tmp_path / "ctrlrec-home"
    monkeypatch.setenv("CTRLREC_HOME", str(home))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return home
