"""Config files: stage configs are dataclasses; this loads their values from TOML."""

from __future__ import annotations

import tomllib
from dataclasses import fields
from pathlib import Path

from ctrlrec.errors import CtrlrecError


def toml_values(cls, path: str | Path | None, section: str, overrides: dict) -> dict:
    """Field values for dataclass `cls`: the TOML file (top level or its [section] table), then the
    non-None overrides. Unknown keys raise one error naming them and the known ones."""
    values: dict = {}
    if path is not None:
        p = Path(path)
        try:
            raw = tomllib.loads(p.read_text())
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise CtrlrecError(f"{p}: expected a readable TOML file ({exc})") from exc
        values = raw.get(section, raw)
    values.update({k: v for k, v in overrides.items() if v is not None})
    known = {f.name for f in fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
        raise CtrlrecError(f"unknown {section.upper()} config keys {unknown}; "
                           f"expected some of {sorted(known)}")
    return values
