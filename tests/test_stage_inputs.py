"""Bad inputs to the training and evaluation commands: one clear error, before anything is written."""

import pandas as pd
import pytest

from ctrlrec.data.build import FilterConfig, InteractionBuilder, canonicalize
from ctrlrec.errors import CtrlrecError, InputFileError
from ctrlrec.eval.factory import make_recommender
from ctrlrec.sft.config import SFTConfig
from ctrlrec.sft.trainer import build_trainer
from ctrlrec.teacher.train import train as train_teacher
from tests.teacher.teacher_synth import tiny_config


def _dataset(per_user: int):
    items = pd.DataFrame({"source_id": ["a", "b", "c"], "title": ["A", "B", "C"],
                          "categories": [["X"], ["Y"], ["X"]]})
    b = InteractionBuilder()
    for u in ("u1", "u2"):
        for t, code in enumerate("abc"[:per_user]):
            b.add(u, code, t)
    return canonicalize("tiny", b, items, FilterConfig(0, 0))


def test_sft_refuses_a_missing_or_empty_train_file_before_loading_or_writing(tmp_path):
    run = tmp_path / "run"
    cfg = dict(model="no-such-model", output_dir=str(run), precision="fp32", device="cpu")
    with pytest.raises(InputFileError, match="nope.jsonl: file not found"):
        build_trainer(SFTConfig(**cfg, train_file=str(tmp_path / "nope.jsonl")), progress=False)
    (tmp_path / "empty.jsonl").write_text("\n")
    with pytest.raises(CtrlrecError, match="empty.jsonl: no samples"):
        build_trainer(SFTConfig(**cfg, train_file=str(tmp_path / "empty.jsonl")), progress=False)
    assert not run.exists()


def test_teacher_refuses_a_dataset_without_validation_and_test_targets(tmp_path):
    ds = _dataset(per_user=2)
    with pytest.raises(CtrlrecError, match="no user with >= 3 interactions .*--user-core 3"):
        train_teacher(tiny_config(), tmp_path / "teacher", ds=ds, progress=False)
    assert not (tmp_path / "teacher").exists()


def test_eval_names_a_missing_model_before_the_first_case(tmp_path):
    with pytest.raises(CtrlrecError, match="model '.*nomodel': expected a registry name"):
        make_recommender(str(tmp_path / "nomodel"), _dataset(per_user=3))


def test_tasks_refuse_a_teacher_of_another_dataset(tmp_path):
    from ctrlrec.data import store
    from ctrlrec.tasks.cli import _context
    from tests.teacher.teacher_synth import cyclic_dataset

    train_teacher(tiny_config(epochs=1), tmp_path / "teacher", ds=cyclic_dataset(), progress=False)
    store.save(_dataset(per_user=3))
    with pytest.raises(CtrlrecError, match="trained on .* items but tiny has 3; expected a teacher "
                                           "trained on this dataset"):
        _context("tiny", str(tmp_path / "teacher"))
