"""Any interactions file plus items file (CSV or TSV), with column names given as options.

interactions: user, item, timestamp columns (timestamp: integer seconds or an ISO date/time).
items: item id, title, categories columns; categories are split on `category_sep` (default "|").
"""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pandas as pd

from ctrlrec.data.badlines import BadLines
from ctrlrec.data.build import FilterConfig, InteractionBuilder
from ctrlrec.data.readers import open_text
from ctrlrec.data.registry import RawRead, Source, register
from ctrlrec.data.sources._common import clean_title
from ctrlrec.errors import CtrlrecError, InputFileError


def _ts(value: str) -> int:
    value = value.strip()
    try:
        return int(float(value))
    except ValueError:
        d = dt.datetime.fromisoformat(value)
        if d.tzinfo is None:
            d = d.replace(tzinfo=dt.UTC)
        return int(d.timestamp())


def _rows(path: Path, expected: str, sep: str, needed: list[str]):
    fh = open_text(path, expected)
    reader = csv.reader(fh, delimiter=sep)
    try:
        header = next(reader)
    except StopIteration:
        fh.close()
        raise InputFileError(path, expected, "empty file") from None
    missing = [c for c in needed if c not in header]
    if missing:
        fh.close()
        raise InputFileError(path, expected, f"no column(s) {', '.join(missing)} in header {header}")
    idx = [header.index(c) for c in needed]
    with fh:
        for row in reader:
            yield reader.line_num, row, idx


def read(
    raw: Path,
    strict: bool = False,
    interactions: str | None = None,
    items: str | None = None,
    sep: str = ",",
    user_col: str = "user_id",
    item_col: str = "item_id",
    time_col: str = "timestamp",
    item_id_col: str = "item_id",
    title_col: str = "title",
    categories_col: str = "categories",
    category_sep: str = "|",
) -> RawRead:
    if not interactions or not items:
        raise CtrlrecError("the csv source needs --interactions FILE and --items FILE")
    inter_p, items_p = Path(interactions), Path(items)
    exp_i = f"a delimited items file with columns {item_id_col}, {title_col}, {categories_col}"
    exp_r = f"a delimited interactions file with columns {user_col}, {item_col}, {time_col}"
    bad_i, bad_r = BadLines(items_p, exp_i, strict), BadLines(inter_p, exp_r, strict)
    rows, seen = [], set()
    for n, row, (ci, ct, cc) in _rows(items_p, exp_i, sep, [item_id_col, title_col, categories_col]):
        if len(row) <= max(ci, ct, cc):
            bad_i.add(n, f"{len(row)} fields")
            continue
        title = clean_title(row[ct])
        cats = [c.strip() for c in row[cc].split(category_sep) if c.strip()]
        if row[ci] in seen or not title or not cats:
            continue
        seen.add(row[ci])
        rows.append((row[ci], title, cats))
    catalog = pd.DataFrame(rows, columns=["source_id", "title", "categories"])
    builder = InteractionBuilder()
    for n, row, (cu, cit, ct) in _rows(inter_p, exp_r, sep, [user_col, item_col, time_col]):
        if len(row) <= max(cu, cit, ct):
            bad_r.add(n, f"{len(row)} fields")
            continue
        try:
            builder.add(row[cu], row[cit], _ts(row[ct]))
        except ValueError:
            bad_r.add(n, f"timestamp {row[ct]!r} is neither a number nor an ISO date")
    return RawRead(builder, catalog, [bad_i, bad_r])


register(
    Source(
        name="csv",
        description="Your own data: an interactions file and an items file, columns named by options",
        default_filter=FilterConfig(user_core=5, item_core=5),
        read=read,
    )
)
