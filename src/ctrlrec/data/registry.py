"""Data sources by name. Each source reads its own raw format into the canonical form."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from ctrlrec import paths
from ctrlrec.data.badlines import BadLines
from ctrlrec.data.build import FilterConfig, InteractionBuilder, canonicalize
from ctrlrec.data.dataset import Dataset
from ctrlrec.errors import CtrlrecError


@dataclass
class RawRead:
    """What a source's reader produces: streamed interactions, the item table, bad-line reports."""

    builder: InteractionBuilder
    items: pd.DataFrame
    bad: list[BadLines] = field(default_factory=list)
    meta: dict = field(default_factory=dict)
    interactions_path: str | Path | None = None  # default: the last file in `bad`


@dataclass
class Source:
    name: str
    description: str
    default_filter: FilterConfig
    read: Callable[..., RawRead]
    fetch: Callable[[Path], None] | None = None
    license: str = ""


_SOURCES: dict[str, Source] = {}


def register(source: Source) -> Source:
    _SOURCES[source.name] = source
    return source


def get(name: str) -> Source:
    _load_builtins()
    if name not in _SOURCES:
        raise CtrlrecError(f"unknown dataset '{name}'; expected one of: {', '.join(names())}")
    return _SOURCES[name]


def names() -> list[str]:
    _load_builtins()
    return sorted(_SOURCES)


def _load_builtins() -> None:
    from ctrlrec.data.sources import amazon, csv_source, movielens, steam  # noqa: F401


_FILE_OPTIONS = ("interactions", "items")  # options naming input files: recorded as absolute paths


def prepare(
    name: str,
    raw: str | Path | None = None,
    filt: FilterConfig | None = None,
    strict: bool = False,
    out_name: str | None = None,
    **options,
) -> tuple[Dataset, list[str]]:
    """Read a source's raw files and build the canonical dataset (not yet saved).

    Returns the dataset and the messages about skipped malformed lines.
    """
    src = get(name)
    raw_path = Path(raw) if raw else paths.raw_dir(name)
    filt = filt or src.default_filter
    t0 = time.perf_counter()
    rr = src.read(raw_path, strict=strict, **options)
    if len(rr.builder) == 0:
        inter = rr.interactions_path or (rr.bad[-1].path if rr.bad else raw_path)
        bad = next((b for b in rr.bad if str(b.path) == str(inter)), None)
        why = f"all {bad.count:,} lines malformed" if bad and bad.count else "no interactions"
        raise CtrlrecError(f"{inter}: {why}; expected a file with at least one interaction "
                           f"(prepare {name} saved nothing)")
    meta = {
        "source": name,
        # the folder read; a source that reads named files (csv) lists them in options instead
        **({"raw_dir": str(raw_path)} if raw_path.is_dir() else {}),
        "options": {k: (str(Path(v).resolve()) if k in _FILE_OPTIONS else v)
                    for k, v in options.items() if v is not None},
        "malformed": [b.summary() for b in rr.bad if b.count],
        **rr.meta,
    }
    ds = canonicalize(out_name or name, rr.builder, rr.items, filt, meta)
    ds.meta["prepare_seconds"] = round(time.perf_counter() - t0, 3)
    return ds, [m for b in rr.bad if (m := b.message())]
