"""Run manifests: the config, seed and package versions behind every number a user sees."""

from __future__ import annotations

import platform
import sys
import time
from importlib import metadata

_PACKAGES = ("ctrlrec", "torch", "numpy", "pandas", "pyarrow", "transformers", "peft", "trl")


def versions() -> dict[str, str]:
    """Installed versions of the packages that can change results."""
    out = {"python": sys.version.split()[0], "platform": platform.platform()}
    for name in _PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return out


def manifest(stage: str, config: dict, seed: int | None = None, **extra) -> dict:
    """A manifest record for one stage."""
    return {
        "stage": stage,
        "config": config,
        "seed": seed,
        "versions": versions(),
        "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
        **extra,
    }
