"""Reading what `ctrlrec score` is given: the catalog (§6) and the case file, line by line.

Every problem a user can cause becomes a CtrlrecError whose message starts with `FILE:LINE:`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from ctrlrec.errors import CtrlrecError, InputFileError
from ctrlrec.scoring.catalog import Catalog
from ctrlrec.scoring.intents import as_intents, check_k, intent_from_json
from ctrlrec.scoring.parse import normalise
from ctrlrec.scoring.score import Case

try:  # orjson is several times faster on long teacher lists; plain json is the fallback
    import orjson

    _loads = orjson.loads
except ImportError:  # pragma: no cover
    _loads = json.loads

CATALOG_HELP = ("a prepared dataset's name or folder, or a .csv / .jsonl file with columns item_id, "
                "title, categories (a JSON list, or one string with categories separated by '|')")


def _categories(v, where: str) -> list[str]:
    if isinstance(v, (list, tuple)):
        cats = list(v)
    elif v is None or (isinstance(v, float) and pd.isna(v)):
        cats = []
    elif isinstance(v, str):
        s = v.strip()
        if s.startswith("["):
            try:
                cats = json.loads(s)
            except ValueError as exc:
                raise CtrlrecError(f"{where}: categories {v!r} is not a JSON list ({exc})") from None
            if not isinstance(cats, list):
                raise CtrlrecError(f"{where}: categories {v!r} is not a JSON list")
        else:
            cats = [c.strip() for c in s.split("|") if c.strip()]
    else:
        cats = None
    if cats is None or not all(isinstance(c, str) and c for c in cats):
        raise CtrlrecError(f"{where}: categories {v!r}: expected a list of non-empty strings")
    return cats


def load_catalog_file(spec: str | Path) -> Catalog:
    """A `Catalog` from a prepared dataset (name or folder) or from a CSV / JSONL file."""
    path = Path(spec)
    if path.is_file():
        suffix = path.suffix.lower()
        if suffix == ".csv":
            try:
                df = pd.read_csv(path, dtype={"title": str, "item_id": str}, keep_default_na=False)
            except Exception as exc:  # any parser failure is the same user problem
                raise InputFileError(path, "a CSV file with columns item_id, title, categories",
                                     str(exc)) from exc
        elif suffix in (".jsonl", ".json", ".ndjson"):
            rows = []
            with open(path, encoding="utf-8") as fh:
                for n, line in enumerate(fh, 1):
                    if line.strip():
                        try:
                            rows.append(_loads(line))
                        except ValueError as exc:
                            raise CtrlrecError(f"{path}:{n}: malformed JSON ({exc})") from None
            df = pd.DataFrame(rows)
        else:
            raise InputFileError(path, CATALOG_HELP, f"unknown file type {suffix!r}")
        return _from_table(df, str(path))
    from ctrlrec.data.store import load_catalog

    return Catalog.from_frame(load_catalog(spec))


def _from_table(df: pd.DataFrame, where: str) -> Catalog:
    missing = {"item_id", "title", "categories"} - set(df.columns)
    if missing:
        raise CtrlrecError(f"{where}: missing columns {sorted(missing)}; expected {CATALOG_HELP}")
    ids = _item_ids(df["item_id"].tolist(), where)
    titles = df["title"].tolist()
    for n, t in enumerate(titles, 1):
        if not isinstance(t, str) or not t:
            raise CtrlrecError(f"{where}: row {n}: title {t!r}: expected a non-empty string")
    cats = [_categories(v, f"{where}: row {n}") for n, v in enumerate(df["categories"].tolist(), 1)]
    return Catalog(ids, titles, cats)


def _item_ids(values: list, where: str) -> list:
    """The item_id column: all integers (digit strings count) stay integers, exactly as before;
    otherwise every id is kept as the user's own non-empty string (`m0001`, `tt1`, an ASIN)."""
    ints: list[int] = []
    labels: list[str] = []
    all_int = True
    for n, v in enumerate(values, 1):
        if isinstance(v, str):
            label = v.strip()
            if label.isdigit() and label.isascii():
                ints.append(int(label))
            else:
                all_int = False
        elif isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)):
            if v < 0:
                raise CtrlrecError(f"{where}: row {n}: item_id {v!r}: expected a non-negative "
                                   "integer or a non-empty string")
            label = str(int(v))
            ints.append(int(v))
        else:
            label = ""
        if not label:
            raise CtrlrecError(f"{where}: row {n}: item_id {v!r}: expected a non-empty string or a "
                               "non-negative integer")
        labels.append(label)
    ids: list = ints if all_int else labels
    seen: dict = {}
    for n, v in enumerate(ids, 1):
        first = seen.setdefault(v, n)
        if first != n:
            raise CtrlrecError(f"{where}: row {n}: item_id {values[n - 1]!r} appears twice (first at "
                               f"row {first}); expected unique item ids")
    return ids


_REQUIRED = ("id", "intent", "k", "output")


def _input_index(catalog: Catalog, v, what: str) -> int:
    """History/target entries: an item id, or a title matched exactly or after normalisation."""
    if isinstance(v, str):
        i = _title_or_label(catalog, v)
        if i is None:
            also = " or an item id" if catalog.labels is not None else ""
            raise CtrlrecError(f"{what} {v!r} is not a title{also} of the catalog")
        return i
    if catalog.labels is not None and isinstance(v, int) and not isinstance(v, bool):
        return _label(catalog, v, what)
    return catalog.ground_input(v, what)


def _title_or_label(catalog: Catalog, v: str) -> int | None:
    """A string entry: an exact title, else one of the catalog's string ids, else a normalised title."""
    i = catalog.exact.get(v)
    if i is None and catalog.labels is not None:
        i = catalog.label_index.get(v)
    if i is None:
        i = catalog.normalised.get(normalise(v))
    return i


def _label(catalog: Catalog, v: int, what: str) -> int:
    """An integer given for a string-id catalog: the id written without quotes (12 for "12")."""
    i = catalog.label_index.get(str(v))
    if i is None:
        raise CtrlrecError(f"{what} {v!r} is not in the catalog")
    return i


def case_from_json(obj, catalog: Catalog) -> Case:
    """A validated `Case` from one decoded line of the case file (titles resolved to item ids)."""
    if not isinstance(obj, dict):
        raise CtrlrecError(f"expected a JSON object, got {type(obj).__name__}")
    for name in _REQUIRED:
        if name not in obj:
            raise CtrlrecError(f"missing the field {name!r} (required: {', '.join(_REQUIRED)})")
    raw = obj["intent"]
    intents = as_intents([intent_from_json(x) for x in (raw if isinstance(raw, list) else [raw])])
    for p in intents:
        if p.category is not None:
            catalog.category(p.category)
    k = check_k(obj["k"])
    output = obj["output"]
    if not isinstance(output, str) and not (isinstance(output, list)
                                            and all(isinstance(x, str) for x in output)):
        raise CtrlrecError(f"output must be a string (or a list of lines), got {output!r:.60}")
    history = obj.get("history") or []
    if not isinstance(history, list):
        raise CtrlrecError(f"history must be a list of titles or item ids, got {history!r:.60}")
    ids = catalog.ids
    hist = [int(ids[_input_index(catalog, h, "history item")]) for h in history]
    target = obj.get("target")
    if target is not None:
        target = int(ids[_input_index(catalog, target, "target")])
    teacher = obj.get("teacher")
    if teacher is not None:
        if not isinstance(teacher, list):
            raise CtrlrecError(f"teacher must be a list of titles or item ids, best first, got "
                               f"{teacher!r:.60}")
        teacher = [_teacher_entry(catalog, t) for t in teacher]
    return Case(output, k, intents, hist, target, teacher, id=obj["id"])


def _teacher_entry(catalog: Catalog, t):
    """A teacher entry the catalog does not know keeps its rank but names no item (r stays n)."""
    if isinstance(t, str):
        i = _title_or_label(catalog, t)
        return None if i is None else int(catalog.ids[i])
    if isinstance(t, int) and not isinstance(t, bool):
        if catalog.labels is not None:
            return int(catalog.ids[_label(catalog, t, "teacher item id")])
        return int(catalog.ids[catalog.index_of([t], "teacher item id")[0]])
    raise CtrlrecError(f"teacher entry {t!r}: expected a catalog title or an item id")


def read_cases(lines: Iterable[str], catalog: Catalog, source: str
               ) -> Iterator[tuple[int, Case | CtrlrecError]]:
    """(line number, Case or the error for that line) for each non-blank line."""
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            try:
                obj = _loads(line)
            except ValueError as exc:
                raise CtrlrecError(f"malformed JSON ({exc})") from None
            yield n, case_from_json(obj, catalog)
        except CtrlrecError as exc:
            yield n, CtrlrecError(f"{source}:{n}: {exc}")
