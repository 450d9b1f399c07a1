"""Reading what `ctrlrec score` is given: the catalog (§6) and the case file, line by line.

Every problem a user can cause becomes a CtrlrecError whose message starts with `FILE:LINE:`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

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
                df = pd.read_csv(path, dtype={"title": str}, keep_default_na=False)
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
    ids = []
    for n, v in enumerate(df["item_id"].tolist(), 1):
        if isinstance(v, str) and v.strip().isdigit():
            v = int(v)
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise CtrlrecError(f"{where}: row {n}: item_id {v!r}: expected a non-negative integer")
        ids.append(v)
    titles = df["title"].tolist()
    for n, t in enumerate(titles, 1):
        if not isinstance(t, str) or not t:
            raise CtrlrecError(f"{where}: row {n}: title {t!r}: expected a non-empty string")
    cats = [_categories(v, f"{where}: row {n}") for n, v in enumerate(df["categories"].tolist(), 1)]
    return Catalog(ids, titles, cats)


_REQUIRED = ("id", "intent", "k", "output")


def _input_index(catalog: Catalog, v, what: str) -> int:
    """History/target entries: an item id, or a title matched exactly or after normalisation."""
    if isinstance(v, str):
        i = catalog.exact.get(v)
        if i is None:
            i = catalog.normalised.get(normalise(v))
        if i is None:
            raise CtrlrecError(f"{what} {v!r} is not a title of the catalog")
        return i
    return catalog.ground_input(v, what)


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
        i = catalog.exact.get(t)
        if i is None:
            i = catalog.normalised.get(normalise(t))
        return None if i is None else int(catalog.ids[i])
    if isinstance(t, int) and not isinstance(t, bool):
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
