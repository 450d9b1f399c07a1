"""Opening raw files (plain or gzip) with one clear error when they are missing or unreadable."""

from __future__ import annotations

import gzip
import io
from collections.abc import Iterator
from pathlib import Path

from ctrlrec.errors import InputFileError


def open_text(path: str | Path, expected: str) -> io.TextIOBase:
    """Open a text file for reading; `.gz` files are decompressed on the fly."""
    path = Path(path)
    if path.is_dir():
        raise InputFileError(path, expected, "is a folder, not a file")
    if not path.exists():
        raise InputFileError(path, expected, "file not found")
    if not (path.is_file() or path.is_fifo()):  # a pipe is read as a stream: `--items <(zcat f.gz)`
        raise InputFileError(path, expected, "not a regular file")
    try:
        if path.suffix == ".gz":
            fh = gzip.open(path, "rt", encoding="utf-8", errors="replace")
            fh.peek(1) if hasattr(fh, "peek") else None
            fh.read(0)
            return fh
        return open(path, encoding="utf-8", errors="replace")
    except (OSError, gzip.BadGzipFile) as exc:
        raise InputFileError(path, expected, f"cannot read ({exc})") from exc


def numbered_lines(path: str | Path, expected: str) -> Iterator[tuple[int, str]]:
    """Yield (1-based line number, line without newline), skipping blank lines.

    A file with no non-blank line (0 bytes, or a valid gzip of nothing) raises InputFileError.
    """
    fh = open_text(path, expected)
    any_line = False
    try:
        for n, line in enumerate(fh, start=1):
            line = line.rstrip("\r\n")
            if line.strip():
                any_line = True
                yield n, line
        if not any_line:
            raise InputFileError(path, expected, "empty file (no lines)")
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        raise InputFileError(path, expected, f"cannot read ({exc})") from exc
    finally:
        fh.close()
