from fractions import Fraction

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from ctrlrec.tasks.labels import count_bounds, proportion_label, top_allowed


def test_top_allowed_target_first_only_when_allowed():
    ranking = np.array([4, 2, 0, 1, 3, 5])
    allowed = np.array([True, True, True, False, True, True])
    assert top_allowed(ranking, allowed, 3, first=5) == [5, 4, 2]
    assert top_allowed(ranking, allowed, 3, first=3) == [4, 2, 0]  # target not allowed
    assert top_allowed(ranking, allowed, 3, first=4) == [4, 2, 0]  # no duplicate
    assert top_allowed(ranking, allowed, 6) is None  # only 5 allowed


def test_count_bounds():
    assert count_bounds("I2<=", 10, Fraction(2)) == (0, 2)
    assert count_bounds("I2<=", 7, Fraction(21, 10)) == (0, 2)
    assert count_bounds("I2>=", 7, Fraction(21, 10)) == (3, 7)
    assert count_bounds("I2~", 10, Fraction(3)) == (2, 4)
    assert count_bounds("I2~", 7, Fraction(21, 10)) == (2, 3)


def test_proportion_label_moves_to_nearest_count_in_teacher_order():
    ranking = np.arange(10)
    in_c = np.array([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], bool)
    allowed = np.ones(10, bool)
    # teacher's top-4 is all C; at most 1 of 4 -> keep the best C item, then the best non-C ones
    assert proportion_label(ranking, allowed, in_c, 4, "I2<=", Fraction(1)) == [0, 4, 5, 6]
    # target 7 (not in C) leads; at least 3 of 4 in C
    assert proportion_label(ranking, allowed, in_c, 4, "I2>=", Fraction(3), first=7) == [7, 0, 1, 2]
    # target 0 in C cannot lead a list with no C at all: it is left out
    assert proportion_label(ranking, allowed, in_c, 3, "I2<=", Fraction(0), first=0) == [4, 5, 6]
    # impossible: 5 C items needed, only 4 exist
    assert proportion_label(ranking, allowed, in_c, 5, "I2>=", Fraction(5)) is None


@settings(max_examples=150, deadline=None)
@given(
    n=st.integers(6, 30), k=st.integers(1, 10), seed=st.integers(0, 10_000),
    kind=st.sampled_from(["I2<=", "I2~", "I2>="]), m=st.sampled_from([0.1, 0.2, 0.3, 0.5, 0.8]),
    with_target=st.booleans(),
)
def test_proportion_label_always_satisfies_or_refuses(n, k, seed, kind, m, with_target):
    rng = np.random.default_rng(seed)
    ranking = rng.permutation(n)
    in_c = rng.random(n) < 0.4
    allowed = rng.random(n) < 0.8
    km = k * Fraction(str(m))
    first = int(rng.integers(n)) if with_target else None
    label = proportion_label(ranking, allowed, in_c, k, kind, km, first)
    lo, hi = count_bounds(kind, k, km)
    n_in_allowed = int((allowed & in_c).sum())
    n_out_allowed = int((allowed & ~in_c).sum())
    feasible = any(lo <= c <= hi and c <= n_in_allowed and k - c <= n_out_allowed
                   for c in range(k + 1))
    if label is None:
        assert not feasible
        return
    assert len(label) == k == len(set(label))
    assert allowed[label].all()
    assert lo <= in_c[label].sum() <= hi
    body = label[1:] if first is not None and label and label[0] == first else label
    pos = {item: r for r, item in enumerate(ranking.tolist())}
    assert [pos[i] for i in body] == sorted(pos[i] for i in body)  # teacher order kept
