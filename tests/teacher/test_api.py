import numpy as np
import pytest
import torch
from teacher_synth import N_ITEMS

from ctrlrec.errors import CtrlrecError
from ctrlrec.teacher import Teacher

HISTORIES = [[3, 4, 5], [10, 11, 12, 13], [0], [], list(range(0, 20, 2))]


@pytest.fixture(scope="module")
def teacher(trained_run):
    return Teacher.load(trained_run[0], device="cpu")


def test_topk_shape_and_never_history(teacher):
    top = teacher.topk(HISTORIES, 5)
    assert top.shape == (5, 5) and top.dtype == np.int64
    for h, row in zip(HISTORIES, top, strict=False):
        assert not set(row.tolist()) & set(h)
        assert len(set(row.tolist())) == 5
    # the learned pattern: after 3,4,5 comes 6
    assert top[0, 0] == 6 and top[1, 0] == 14


def test_include_exclude_and_exclude_items(teacher):
    even = set(range(0, N_ITEMS, 2))
    low = set(range(5))
    inc = teacher.topk(HISTORIES[:3], 4, include="Odd")
    assert all(set(r) <= set(range(1, N_ITEMS, 2)) - set(h) for h, r in zip(HISTORIES, inc, strict=False))
    exc = teacher.topk(HISTORIES[:3], 4, exclude="Even")
    assert all(not set(r) & even for r in exc)
    assert teacher.topk([[3, 4, 5]], 1, exclude_items=[6])[0, 0] != 6
    per_row = teacher.topk(HISTORIES[:2], 2, include=["Low", None])
    assert set(per_row[0]) <= low and per_row[1, 0] == 14
    both = teacher.topk(HISTORIES[:2], 2, exclude_items=[[6], [14]])
    assert both[0, 0] != 6 and both[1, 0] != 14


def test_short_rows_are_padded(teacher):
    out = teacher.topk([[0, 1, 2]], 4, include="Low")  # Low = 0..4, two left
    assert sorted(out[0, :2].tolist()) == [3, 4] and (out[0, 2:] == -1).all()


def test_errors_name_the_input(teacher):
    with pytest.raises(CtrlrecError, match="unknown category 'Nope'"):
        teacher.topk(HISTORIES, 3, include="Nope")
    with pytest.raises(CtrlrecError, match="k: expected"):
        teacher.topk(HISTORIES, 0)
    with pytest.raises(CtrlrecError, match=r"histories\[0\]"):
        teacher.topk([[99]], 3)
    with pytest.raises(CtrlrecError, match="include"):
        teacher.topk(HISTORIES, 3, include=["Odd"])


def test_ranking_agrees_with_topk(teacher):
    rk = teacher.ranking(HISTORIES)
    assert rk.shape == (len(HISTORIES), N_ITEMS)
    assert (np.sort(rk, axis=1) == np.arange(N_ITEMS)).all()  # a permutation per row
    np.testing.assert_array_equal(rk[:, :7], teacher.topk(HISTORIES, 7))
    for h, row in zip(HISTORIES, rk, strict=False):  # history items last, in id order
        tail = row[N_ITEMS - len(h):] if h else row[:0]
        assert sorted(h) == tail.tolist()


def test_ranks_is_inverse_of_ranking(teacher):
    rk = teacher.ranking(HISTORIES)
    ranks = teacher.ranks(HISTORIES)
    for b in range(len(HISTORIES)):
        assert (ranks[b, rk[b]] == np.arange(N_ITEMS)).all()
    assert ranks[0, 6] == 0


def test_long_histories_use_the_last_max_len(teacher):
    long = list(range(1, 19))  # 18 items > max_len 8
    a = teacher.scores([long], mask_history=False)
    b = teacher.scores([long[-8:]], mask_history=False)
    assert torch.allclose(a, b)
    assert teacher.topk([long], 2).tolist() in ([[19, 0]], [[0, 19]])
