import numpy as np
import pandas as pd

from ctrlrec.cf.sampler import BPRSampler
from ctrlrec.cf.splits import cold_item_split, loo_split, random_split, snapshot_split


def _data(n_users=20, n_items=30, per_user=10, seed=0):
    rng = np.random.default_rng(seed)
    users = np.repeat(np.arange(n_users), per_user)
    items = np.concatenate([rng.choice(n_items, per_user, replace=False) for _ in range(n_users)])
    times = rng.integers(0, 1000, len(users))
    return users, items, times


def test_random_split_is_per_user_80_10_10_and_disjoint():
    users, items, _ = _data()
    s = random_split(users, items, 20, 30)
    assert len(s.train) == 160 and len(s.valid) == 20 and len(s.test) == 20
    for u in range(20):
        parts = [set(p[p[:, 0] == u, 1]) for p in (s.train, s.valid, s.test)]
        assert len(parts[0]) == 8 and len(parts[1]) == 1 and len(parts[2]) == 1
        assert parts[0].union(*parts[1:]) == set(items[users == u])


def test_cold_item_split_removes_held_items_from_training():
    users, items, _ = _data()
    s = cold_item_split(users, items, 20, 30, share=0.2)
    held = np.concatenate([s.valid_candidates, s.test_candidates])
    assert len(held) == 6 and not np.isin(s.train[:, 1], held).any()
    assert set(s.valid[:, 1]) <= set(s.valid_candidates)
    assert set(s.test[:, 1]) <= set(s.test_candidates)
    assert set(held) <= set(s.cold_items)
    assert len(s.train) + len(s.valid) + len(s.test) == len(users)


def test_snapshot_split_cuts_by_time_and_keeps_known_users():
    users, items, times = _data()
    s = snapshot_split(users, items, times, 20, 30)
    t1 = np.quantile(times, 0.8)
    key = pd.Series(times, index=pd.MultiIndex.from_arrays([users, items]))
    assert (key.loc[list(map(tuple, s.train))] < t1).all()
    assert (key.loc[list(map(tuple, s.test))] >= t1).all()
    assert set(s.test[:, 0]) <= set(s.train[:, 0])


def test_loo_split_holds_out_last_two():
    seqs = [np.array([1, 2, 3, 4]), np.array([5, 6])]
    s = loo_split(seqs, 7)
    assert s.valid.tolist() == [[0, 3]] and s.test.tolist() == [[0, 4]]
    assert s.train.tolist() == [[0, 1], [0, 2], [1, 5], [1, 6]]


def test_cold_items_never_in_training_batches():
    users, items, _ = _data()
    s = cold_item_split(users, items, 20, 30, share=0.3)
    sampler = BPRSampler(s.train, 30, seed=1)
    seen_pos, seen_neg = [], []
    for _ in range(20):
        for u, p, q in sampler.epoch(16):
            seen_pos.append(p)
            seen_neg.append(q)
            keys = set(map(tuple, s.train.tolist()))
            assert not any((a, b) in keys for a, b in zip(u.tolist(), q.tolist(), strict=True))
    cold = s.cold_items
    assert len(cold) >= 9
    assert not np.isin(np.concatenate(seen_pos), cold).any()
    assert not np.isin(np.concatenate(seen_neg), cold).any()
