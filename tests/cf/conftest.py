import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    torch.manual_seed(0)


@pytest.fixture
def tiny_graph():
    """8 users, 10 items in two taste groups; each user has 3 training items and 1 test item."""
    rng = np.random.default_rng(0)
    pairs = []
    for u in range(8):
        group = range(0, 5) if u < 4 else range(5, 10)
        pairs += [(u, i) for i in rng.choice(list(group), size=4, replace=False)]
    return np.array(pairs, dtype=np.int64)
