"""Where ctrlrec keeps what it fetches and prepares: $CTRLREC_HOME (default ~/.cache/ctrlrec)."""

from __future__ import annotations

import os
from pathlib import Path


def home() -> Path:
    """The cache root; created on first use."""
    root = Path(os.environ.get("CTRLREC_HOME", Path.home() / ".cache" / "ctrlrec")).expanduser()
    root.mkdir(parents=True, exist_ok=True)
    return root


def raw_dir(name: str) -> Path:
    """Raw downloaded files of a data source."""
    return home() / "raw" / name


def dataset_dir(name: str) -> Path:
    """A prepared dataset in canonical form."""
    return home() / "datasets" / name
