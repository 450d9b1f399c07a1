"""Reading chat-sample JSONL files (instruction samples, test cases, prompts) with clear errors.

Below every stage that reads such files (llm, sft, rl), so none of them imports another for it.
"""

from __future__ import annotations

from pathlib import Path

import orjson

from ctrlrec.errors import InputFileError


def read_jsonl(path: str | Path) -> list[dict]:
    """One object per line, each with a `messages` list; blank lines are skipped."""
    p = Path(path)
    if not p.is_file():
        raise InputFileError(p, "a JSONL file of instruction samples",
                             "is a folder, not a file" if p.is_dir() else "file not found")
    out = []
    with p.open("rb") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise InputFileError(p, "one JSON object per line", f"line {n}: {exc}") from exc
            if not isinstance(row, dict) or not isinstance(row.get("messages"), list):
                raise InputFileError(p, "objects with a 'messages' list", f"line {n}")
            out.append(row)
    return out
