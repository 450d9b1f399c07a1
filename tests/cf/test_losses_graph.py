import math

import numpy as np
import torch

from ctrlrec.cf.graph import norm_adjacency, propagate
from ctrlrec.cf.losses import bpr_loss, info_nce, l2_reg


def test_bpr_by_hand():
    pos, neg = torch.tensor([2.0, 0.0]), torch.tensor([1.0, 1.0])
    want = (-math.log(1 / (1 + math.exp(-1))) - math.log(1 / (1 + math.exp(1)))) / 2
    assert math.isclose(float(bpr_loss(pos, neg)), want, rel_tol=1e-6)


def test_info_nce_by_hand():
    a = torch.tensor([[1.0, 0.0], [0.0, 2.0]])
    b = torch.tensor([[3.0, 0.0], [1.0, 1.0]])
    t = 0.5
    # cosines: a0.b0 = 1, a0.b1 = 1/sqrt2, a1.b0 = 0, a1.b1 = 1/sqrt2
    s = 1 / math.sqrt(2)
    l0 = -math.log(math.exp(1 / t) / (math.exp(1 / t) + math.exp(s / t)))
    l1 = -math.log(math.exp(s / t) / (math.exp(0) + math.exp(s / t)))
    assert math.isclose(float(info_nce(a, b, t)), (l0 + l1) / 2, rel_tol=1e-6)


def test_l2_reg_by_hand():
    x, y = torch.tensor([[1.0, 2.0], [0.0, 1.0]]), torch.tensor([[1.0, 0.0], [0.0, 0.0]])
    assert math.isclose(float(l2_reg(x, y)), (1 + 4 + 1 + 1) / 4)


def test_norm_adjacency_equals_dense():
    pairs = np.array([[0, 0], [0, 1], [1, 1], [2, 2], [2, 1], [0, 1]])  # a duplicate edge
    n_users, n_items = 4, 4  # user 3 and item 3 have no edges
    adj = norm_adjacency(pairs, n_users, n_items)
    assert adj.layout == torch.sparse_csr
    r = np.zeros((n_users, n_items))
    r[pairs[:, 0], pairs[:, 1]] = 1
    a = np.block([[np.zeros((4, 4)), r], [r.T, np.zeros((4, 4))]])
    d = a.sum(1)
    dinv = np.where(d > 0, 1 / np.sqrt(np.where(d > 0, d, 1)), 0)
    want = dinv[:, None] * a * dinv[None, :]
    np.testing.assert_allclose(adj.to_dense().numpy(), want, rtol=1e-6)


def test_propagate_is_layer_mean():
    pairs = np.array([[0, 0], [1, 0], [1, 1]])
    adj = norm_adjacency(pairs, 2, 2)
    e = torch.randn(4, 3)
    d = adj.to_dense()
    want = (e + d @ e + d @ d @ e) / 3
    torch.testing.assert_close(propagate(adj, e, 2), want)


def test_propagate_gradient_equals_dense():
    """The symmetric backward of propagate gives the same gradient as dense autograd."""
    pairs = np.array([[0, 0], [1, 0], [1, 2], [2, 1]])
    adj = norm_adjacency(pairs, 3, 3)
    w = torch.randn(6, 4)
    e1 = torch.randn(6, 4, requires_grad=True)
    e2 = e1.detach().clone().requires_grad_(True)
    (propagate(adj, e1, 3) * w).sum().backward()
    d = adj.to_dense()
    ((e2 + d @ e2 + d @ d @ e2 + d @ d @ d @ e2) / 4 * w).sum().backward()
    torch.testing.assert_close(e1.grad, e2.grad)
