"""Shared fixtures: a tiny dataset saved in the isolated CTRLREC_HOME, its fixed test sets built with
the popularity ranker, and a tiny chat model folder."""

from __future__ import annotations

import pytest

from ctrlrec.tasks.config import TestsetConfig
from ctrlrec.tasks.context import PopularityRanker, TaskContext
from ctrlrec.tasks.testsets import save_testsets
from tests.tasks.tiny import tiny_dataset


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    """(dataset, test-set folder) built once per session."""
    ds = tiny_dataset(n_users=40, n_items=60)
    root = tmp_path_factory.mktemp("eval-world")
    save_testsets(root / "tasks", TaskContext(ds, PopularityRanker.from_dataset(ds)),
                  TestsetConfig(seed=0, valid_per_task=8), "tiny", "popularity")
    return ds, root / "tasks"


@pytest.fixture
def saved(world, _isolated_home):
    """The tiny dataset saved under this test's CTRLREC_HOME as 'tiny' (for the CLI)."""
    from ctrlrec.data.store import save

    ds, tasks = world
    save(ds)
    return ds, tasks


@pytest.fixture(scope="session")
def tiny_llm(tmp_path_factory):
    from tests.llm.tiny import tiny_model_dir

    return tiny_model_dir(tmp_path_factory.mktemp("tiny-llm"))
