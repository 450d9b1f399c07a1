"""Helpers shared by the sources: record parsing, title cleaning."""

from __future__ import annotations

import ast
import datetime as dt
import html
import json
import re

try:  # orjson is ~3x faster on large review dumps; plain json is the fallback
    import orjson

    _loads = orjson.loads
    _JSONError = (orjson.JSONDecodeError, ValueError)
except ImportError:  # pragma: no cover - depends on the environment
    _loads = json.loads
    _JSONError = (ValueError,)

_TAG = re.compile(r"<[^>]{0,200}>")
_SPACE = re.compile(r"\s+")


def parse_record(line: str, python_literal: bool) -> dict:
    """One line as a dict: JSON, or a Python literal read safely with ast.literal_eval (never eval).

    Raises ValueError on anything that is not a dict.
    """
    if python_literal:
        try:
            obj = ast.literal_eval(line)
        except (ValueError, SyntaxError, MemoryError, RecursionError) as exc:
            raise ValueError(f"not a Python literal ({type(exc).__name__})") from None
    else:
        try:
            obj = _loads(line)
        except _JSONError:
            try:  # some Amazon dumps are Python literals too
                obj = ast.literal_eval(line)
            except (ValueError, SyntaxError, MemoryError, RecursionError):
                raise ValueError("not JSON") from None
    if not isinstance(obj, dict):
        raise ValueError(f"a {type(obj).__name__}, not an object")
    return obj


def clean_title(raw) -> str:
    """Unescape HTML entities, drop stray tags, collapse whitespace. '' when there is no title."""
    if not isinstance(raw, str):
        return ""
    text = html.unescape(html.unescape(raw))
    text = _TAG.sub(" ", text)
    return _SPACE.sub(" ", text).strip()


def date_to_ts(value: str) -> int:
    """'2017-12-17' (Steam's review date) to Unix seconds (UTC)."""
    d = dt.date.fromisoformat(value.strip())
    return int(dt.datetime(d.year, d.month, d.day, tzinfo=dt.UTC).timestamp())
