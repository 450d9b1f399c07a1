"""Any interactions file plus items file (CSV or TSV), with column names given as options.

interactions: user, item, timestamp columns (timestamp: integer seconds or an ISO date/time).
items: item id, title, categories columns; categories are split on `category_sep` (default "|").
An optional `year_col` (or any column that tells apart distinct items of one title, e.g. two films
"3:10 to Yuma") is appended to the title in parentheses, unless the title already ends with it, so
remakes are not merged into one item by the title merge.
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


def with_year(title: str, year: str) -> str:
    """'Heat' + '1995' -> 'Heat (1995)'; a title that already ends with '(1995)', or no year, unchanged."""
    year = year.strip()
    if not title or not year or title.endswith(f"({year})"):
        return title
    return f"{title} ({year})"


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
    year_col: str | None = None,
) -> RawRead:
    if not interactions or not items:
        raise CtrlrecError("the csv source needs --interactions FILE and --items FILE")
    inter_p, items_p = Path(interactions), Path(items)
    item_cols = [item_id_col, title_col, categories_col] + ([year_col] if year_col else [])
    exp_i = f"a delimited items file with columns {', '.join(item_cols)}"
    exp_r = f"a delimited interactions file with columns {user_col}, {item_col}, {time_col}"
    bad_i, bad_r = BadLines(items_p, exp_i, strict), BadLines(inter_p, exp_r, strict)
    rows, seen = [], set()
    for n, row, idx in _rows(items_p, exp_i, sep, item_cols):
        if len(row) <= max(idx):
            bad_i.add(n, f"{len(row)} fields")
            continue
        ci, ct, cc = idx[:3]
        title = clean_title(row[ct])
        if year_col:
            title = with_year(title, row[idx[3]])
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
