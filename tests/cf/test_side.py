import numpy as np
import pytest
import torch

from ctrlrec.cf.config import CFConfig
from ctrlrec.cf.models import MODELS, build
from tests.cf.test_models import fit


def cold_setup():
    """Items 0-9 carry a one-hot-ish 'genre' vector (A: 0-4, B: 5-9); users 0-3 like A, 4-7 B.
    Items 4 and 9 are cold: no training interaction at all."""
    rng = np.random.default_rng(1)
    genre = np.array([0] * 5 + [1] * 5)
    vecs = torch.tensor(np.eye(2)[genre] + 0.05 * rng.standard_normal((10, 2)), dtype=torch.float32)
    pairs = [(u, i) for u in range(8) for i in (range(0, 4) if u < 4 else range(5, 9))]
    return np.array(pairs, dtype=np.int64), vecs


@pytest.mark.parametrize("name", sorted(MODELS))
def test_side_vectors_make_cold_item_scores_informative(name):
    train, vecs = cold_setup()
    cold = np.array([4, 9])
    cfg = CFConfig(model=name, dim=8, layers=2, reg=0.0, side_hidden=16)
    plain = fit(build(cfg, 8, 10, train), train, 10, epochs=60)
    s = plain.score_users(torch.arange(8))[:, cold]
    # without side vectors every cold item is the zero vector: one constant score per user
    torch.testing.assert_close(s[:, 0], s[:, 1])
    user_vecs = torch.tensor(np.eye(2)[[0] * 4 + [1] * 4], dtype=torch.float32)
    withside = fit(build(cfg, 8, 10, train, user_side=user_vecs, item_side=vecs), train, 10,
                   epochs=60)
    s = withside.score_users(torch.arange(8))[:, cold]
    # with them, each user ranks the cold item of their own genre first
    assert (s[:4, 0] > s[:4, 1]).all() and (s[4:, 1] > s[4:, 0]).all(), s


@pytest.mark.parametrize("fuse", ["sum", "concat"])
def test_cold_item_is_its_projection_alone(fuse):
    train, vecs = cold_setup()
    cfg = CFConfig(model="biasmf", dim=4, fuse=fuse)
    model = build(cfg, 8, 10, train, item_side=vecs)
    items = model.items()
    proj = model.items.side()
    want = proj[9] if fuse == "sum" else torch.cat([torch.zeros(4), proj[9]])
    torch.testing.assert_close(items[9], want)
    assert model.out_dim == (8 if fuse == "concat" else 4)
    assert model.users().shape == (8, model.out_dim)  # users get a free second table
