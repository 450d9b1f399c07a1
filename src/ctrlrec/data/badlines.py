"""Counting malformed input lines: report the count and the first line numbers, or stop at once."""

from __future__ import annotations

from ctrlrec.errors import InputFileError

_KEEP = 5


class BadLines:
    """Collects malformed lines of one file. With `strict`, the first one raises."""

    def __init__(self, path, expected: str, strict: bool = False):
        self.path = str(path)
        self.expected = expected
        self.strict = strict
        self.count = 0
        self.first: list[tuple[int, str]] = []

    def add(self, lineno: int, reason: str) -> None:
        if self.strict:
            raise InputFileError(self.path, self.expected, f"line {lineno}: {reason}")
        self.count += 1
        if len(self.first) < _KEEP:
            self.first.append((lineno, reason))

    def summary(self) -> dict | None:
        if not self.count:
            return None
        return {
            "file": self.path,
            "count": self.count,
            "first": [{"line": n, "reason": r} for n, r in self.first],
        }

    def message(self) -> str | None:
        if not self.count:
            return None
        where = ", ".join(f"line {n} ({r})" for n, r in self.first)
        return f"{self.path}: skipped {self.count} malformed line(s); first: {where}"
