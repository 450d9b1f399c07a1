"""Fixtures of the teacher tests (data builders live in teacher_synth.py)."""

from __future__ import annotations

import pytest
from teacher_synth import cyclic_dataset, tiny_config

from ctrlrec.data import Dataset
from ctrlrec.teacher.train import train


@pytest.fixture(scope="session")
def cyclic() -> Dataset:
    return cyclic_dataset()


@pytest.fixture(scope="session")
def trained_run(tmp_path_factory, cyclic):
    """A teacher trained to convergence on the cyclic data: (run dir, metrics)."""
    run = tmp_path_factory.mktemp("teacher") / "run"
    res = train(tiny_config(), run, ds=cyclic, progress=False)
    return run, res
