import json

import pytest

from ctrlrec.errors import CtrlrecError
from ctrlrec.profiles.rl import read_teacher


def test_read_teacher_keeps_valid_profiles_and_the_train_runs_held_out_users(tmp_path):
    rows = [{"user": 0, "profile": "p0", "valid": True, "held_out_user": False},
            {"user": 1, "profile": "p1", "valid": False, "held_out_user": True},
            {"user": 2, "profile": "p2", "valid": True, "held_out_user": True},
            {"user": 3, "profile": "p3", "valid": True, "held_out_user": False}]
    path = tmp_path / "teacher.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    profiles, held = read_teacher(path)
    assert profiles == {0: "p0", 2: "p2", 3: "p3"}
    assert held == {1, 2}
    old = tmp_path / "old.jsonl"  # written before the flag existed: the caller falls back to its own split
    old.write_text(json.dumps({"user": 0, "profile": "p0", "valid": True}) + "\n")
    assert read_teacher(old) == ({0: "p0"}, None)


def test_read_teacher_names_the_missing_file(tmp_path):
    with pytest.raises(CtrlrecError, match="teacher.jsonl"):
        read_teacher(tmp_path / "teacher.jsonl")
