"""Prepared datasets on disk: Parquet tables plus meta.json, written atomically as one folder."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from ctrlrec import paths
from ctrlrec.atomic import atomic_dir
from ctrlrec.data.dataset import Dataset
from ctrlrec.errors import CtrlrecError, InputFileError

FORMAT_VERSION = 1
_TABLES = ("catalog", "interactions", "users")


def save(ds: Dataset, root: str | Path | None = None) -> Path:
    """Write `ds` under `root` (default: the cache's datasets folder), replacing it atomically."""
    target = Path(root) if root else paths.dataset_dir(ds.name)
    if len(ds.interactions) == 0:
        raise CtrlrecError(f"dataset '{ds.name}' has 0 interactions; not saving it to {target}")
    with atomic_dir(target) as tmp:
        for table in _TABLES:
            getattr(ds, table).to_parquet(tmp / f"{table}.parquet", index=False)
        meta = {**ds.meta, "name": ds.name, "format_version": FORMAT_VERSION}
        (tmp / "meta.json").write_text(json.dumps(meta, indent=2, sort_keys=True, default=str))
    return target


def _resolve(name_or_path: str | Path) -> Path:
    p = Path(name_or_path)
    if (p / "meta.json").is_file():
        return p
    d = paths.dataset_dir(str(name_or_path))
    if (d / "meta.json").is_file():
        return d
    raise CtrlrecError(
        f"dataset '{name_or_path}' is not prepared (looked in {d}); "
        f"run `ctrlrec data prepare {name_or_path}` first"
    )


def load(name_or_path: str | Path) -> Dataset:
    """Load a prepared dataset by name (from the cache) or by folder path."""
    d = _resolve(name_or_path)
    meta = json.loads((d / "meta.json").read_text())
    tables = {}
    for table in _TABLES:
        f = d / f"{table}.parquet"
        try:
            tables[table] = pd.read_parquet(f)
        except Exception as exc:
            raise InputFileError(f, "a Parquet table written by ctrlrec", str(exc)) from exc
    if len(tables["interactions"]) == 0:
        raise CtrlrecError(
            f"dataset '{meta.get('name', d.name)}' in {d} has 0 interactions; prepare it again "
            f"with --force (and lower --user-core/--item-core if a filter emptied it)"
        )
    tables["catalog"]["categories"] = tables["catalog"]["categories"].map(list)
    return Dataset(name=meta.get("name", d.name), meta=meta, **tables)


def load_catalog(name_or_path: str | Path) -> pd.DataFrame:
    """Only the catalog table (item_id, title, categories) of a prepared dataset."""
    d = _resolve(name_or_path)
    cat = pd.read_parquet(d / "catalog.parquet")
    cat["categories"] = cat["categories"].map(list)
    return cat
