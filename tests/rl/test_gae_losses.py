"""GAE, whitening and the PPO losses against values worked out by hand."""

import math

import pytest
import torch

from ctrlrec.rl.gae import gae
from ctrlrec.rl.losses import approx_kl, entropy, masked_mean, policy_loss, value_loss, whiten


def test_gae_by_hand():
    # gamma = lam = 0.5. Row 0, three tokens:
    #   t=2: delta = 2 + 0 - 0 = 2                      A2 = 2
    #   t=1: delta = 0 + 0.5*0 - 1 = -1                  A1 = -1 + 0.25*2 = -0.5
    #   t=0: delta = 1 + 0.5*1 - 0.5 = 1                 A0 = 1 + 0.25*(-0.5) = 0.875
    # Row 1, one token then padding (the padded rewards/values must be ignored):
    #   t=0: delta = 3 + 0 - 2 = 1                       A0 = 1
    rewards = torch.tensor([[1.0, 0.0, 2.0], [3.0, 9.0, 9.0]])
    values = torch.tensor([[0.5, 1.0, 0.0], [2.0, 7.0, 7.0]])
    mask = torch.tensor([[1.0, 1.0, 1.0], [1.0, 0.0, 0.0]])
    adv, ret = gae(rewards, values, mask, gamma=0.5, lam=0.5)
    assert adv.flatten().tolist() == pytest.approx([0.875, -0.5, 2.0, 1.0, 0.0, 0.0])
    assert ret.flatten().tolist() == pytest.approx([1.375, 0.5, 2.0, 3.0, 0.0, 0.0])


def test_gae_lambda_one_is_discounted_return_minus_value():
    r = torch.tensor([[0.0, 0.0, 1.0]])
    v = torch.tensor([[0.3, 0.2, 0.1]])
    adv, ret = gae(r, v, torch.ones(1, 3), gamma=0.9, lam=1.0)
    assert ret[0].tolist() == pytest.approx([0.81, 0.9, 1.0])
    assert adv[0].tolist() == pytest.approx([0.81 - 0.3, 0.9 - 0.2, 1.0 - 0.1])


def test_whiten():
    x = torch.tensor([[2.0, 4.0, 6.0, 100.0]])
    m = torch.tensor([[1.0, 1.0, 1.0, 0.0]])
    # mean 4, unbiased variance 4 over the three masked values; shift_mean=False keeps the mean 4
    assert whiten(x, m).tolist()[0] == pytest.approx([-1.0, 0.0, 1.0, 0.0], abs=1e-6)
    assert whiten(x, m, shift_mean=False).tolist()[0] == pytest.approx([3.0, 4.0, 5.0, 0.0], abs=1e-6)
    assert masked_mean(x, m).item() == pytest.approx(4.0)


def test_policy_loss_by_hand():
    # ratios 1.5, 0.5, 1.0 with advantages 1, 1, -1 and clip 0.2:
    #   t0: max(-1.5, -1.2) = -1.2 (clipped)   t1: max(-0.5, -0.8) = -0.5   t2: max(1, 1) = 1
    old = torch.tensor([[-1.0, -2.0, -0.5]])
    logp = old + torch.log(torch.tensor([[1.5, 0.5, 1.0]]))
    adv = torch.tensor([[1.0, 1.0, -1.0]])
    loss, frac = policy_loss(logp, old, adv, torch.ones(1, 3), 0.2)
    assert loss.item() == pytest.approx((-1.2 - 0.5 + 1.0) / 3)
    assert frac.item() == pytest.approx(1 / 3)


def test_policy_loss_gradient_zero_when_clipped():
    old = torch.zeros(1, 1)
    logp = torch.log(torch.tensor([[1.5]])).requires_grad_()
    loss, _ = policy_loss(logp, old, torch.ones(1, 1), torch.ones(1, 1), 0.2)
    loss.backward()
    assert logp.grad.item() == 0.0


def test_value_loss_by_hand():
    # t0: V 1.0 clipped to 0.5 + 0.2 = 0.7; (1-2)^2 = 1 < (0.7-2)^2 = 1.69 -> 1.69 (clipped)
    # t1: V 0 = old; both terms (0-1)^2 = 1.   loss = 0.5 * (1.69 + 1) / 2
    loss, frac = value_loss(torch.tensor([[1.0, 0.0]]), torch.tensor([[0.5, 0.0]]),
                            torch.tensor([[2.0, 1.0]]), torch.ones(1, 2), 0.2)
    assert loss.item() == pytest.approx(0.5 * 2.69 / 2)
    assert frac.item() == pytest.approx(0.5)


def test_entropy_and_approx_kl():
    assert entropy(torch.zeros(2, 4)).tolist() == pytest.approx([math.log(4)] * 2)
    assert entropy(torch.tensor([[0.0, -1e9]])).item() == pytest.approx(0.0, abs=1e-6)
    logp = torch.tensor([[math.log(2.0), 0.0]])
    kl = approx_kl(logp, torch.zeros(1, 2), torch.ones(1, 2))
    assert kl.item() == pytest.approx((2 - 1 - math.log(2)) / 2)
