import numpy as np
import pytest
import torch

from ctrlrec.cf.config import CFConfig
from ctrlrec.cf.metrics import evaluate, group_by_user
from ctrlrec.cf.models import MODELS, build
from ctrlrec.cf.sampler import BPRSampler


def fit(model, train, n_items, epochs=150, lr=0.05):
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    sampler = BPRSampler(train, n_items, seed=0)
    rng = np.random.default_rng(0)
    for _ in range(epochs):
        model.train()
        model.on_epoch(rng)
        for u, p, q in sampler.epoch(64):
            loss = sum(model.loss(*(torch.from_numpy(x) for x in (u, p, q))).values())
            opt.zero_grad()
            loss.backward()
            opt.step()
    model.eval()
    return model


@pytest.mark.parametrize("name", sorted(MODELS))
def test_each_model_overfits_a_tiny_graph(name, tiny_graph):
    cfg = CFConfig(model=name, dim=16, layers=2, reg=0.0, edge_drop=0.1)
    model = fit(build(cfg, 8, 10, tiny_graph), tiny_graph, 10)
    scores = model.score_users(torch.arange(8))
    known = group_by_user(tiny_graph, 8)
    for u in range(8):
        # every training item outranks every item the user never had
        others = np.setdiff1d(np.arange(10), known[u])
        assert scores[u, known[u]].min() > scores[u, others].max(), (name, u)
    # and full-ranking recall@10 of the training items, unmasked, is perfect
    res = evaluate(model.score_users, known, [np.array([], dtype=np.int64)] * 8, 10, ks=(4,))
    assert res["recall@4"] == pytest.approx(1.0)


def test_training_items_are_masked_at_evaluation():
    # A scorer that loves the training items: masked, they cannot take the top places.
    train = [np.array([0, 1]), np.array([2, 3])]
    test = [np.array([4]), np.array([5])]
    pref = torch.tensor([[9.0, 8, 0, 0, 1, 0], [0, 0, 9, 8, 0, 1]])
    res = evaluate(lambda users: pref[users], test, train, 6, ks=(1,))
    assert res["recall@1"] == 1.0 and res["ndcg@1"] == 1.0
    unmasked = evaluate(lambda users: pref[users], test, [np.array([], np.int64)] * 2, 6, ks=(1,))
    assert unmasked["recall@1"] == 0.0


def test_candidates_restrict_the_ranking():
    test = [np.array([1])]
    scores = torch.tensor([[5.0, 1.0, 0.0, 3.0]])
    res = evaluate(lambda users: scores[users], test, [np.array([], np.int64)], 4,
                   candidates=np.array([1, 2]), ks=(1,))
    assert res["recall@1"] == 1.0


def test_recall_and_ndcg_by_hand():
    test = [np.array([2, 3])]
    scores = torch.tensor([[4.0, 3.0, 2.0, 1.0, 0.0]])  # ranking 0,1,2,3,4
    res = evaluate(lambda users: scores[users], test, [np.array([], np.int64)], 5, ks=(3,))
    assert res["recall@3"] == pytest.approx(0.5)
    assert res["ndcg@3"] == pytest.approx((1 / np.log2(4)) / (1 + 1 / np.log2(3)))


def test_biasmf_without_item_bias_is_plain_mf(tiny_graph):
    cfg = CFConfig(model="biasmf", dim=8, item_bias=False)
    model = build(cfg, 8, 10, tiny_graph)
    with torch.no_grad():
        model.item_bias.fill_(5.0)  # ignored when the bias is off
    model.eval()
    eu, ei = model.ego()
    torch.testing.assert_close(model.score_users(torch.arange(8)), eu @ ei.T)
    biased = build(CFConfig(model="biasmf", dim=8), 8, 10, tiny_graph)
    biased.load_state_dict(model.state_dict())
    biased.eval()
    torch.testing.assert_close(biased.score_users(torch.arange(8)), eu @ ei.T + 5.0)


def test_init_std_zero_is_xavier_normal(tiny_graph):
    big = np.stack([np.arange(2000) % 500, np.arange(2000) % 300], axis=1)
    model = build(CFConfig(model="biasmf", dim=64, init_std=0.0), 500, 300, big)
    assert float(model.users.ids.weight.std()) == pytest.approx((2 / (500 + 64)) ** 0.5, rel=0.05)
    assert float(model.items.ids.weight.std()) == pytest.approx((2 / (300 + 64)) ** 0.5, rel=0.05)
    default = build(CFConfig(model="biasmf", dim=64), 500, 300, big)
    assert float(default.users.ids.weight.std()) == pytest.approx(0.1, rel=0.05)


@pytest.mark.parametrize("name", ["sgl", "simgcl"])
def test_ssl_warmup_ramps_the_contrastive_weight(name, tiny_graph):
    def ssl_at(epochs_seen, warmup):
        torch.manual_seed(0)
        model = build(CFConfig(model=name, dim=8, layers=2, ssl_warmup=warmup), 8, 10, tiny_graph)
        model.on_epoch(np.random.default_rng(0))
        model.epochs_seen = epochs_seen
        torch.manual_seed(1)  # SimGCL's noise
        u, p, q = (torch.from_numpy(x) for x in (tiny_graph[:, 0], tiny_graph[:, 1], tiny_graph[:, 1]))
        return float(model.loss(u, p, q)["ssl"])

    full = ssl_at(0, 0)
    assert full > 0
    assert ssl_at(0, 4) == 0.0
    assert ssl_at(2, 4) == pytest.approx(full / 2, rel=1e-5)
    assert ssl_at(9, 4) == pytest.approx(full, rel=1e-5)


@pytest.mark.parametrize("name", ["biasmf", "ncf"])
@pytest.mark.parametrize("side", [False, True])
@pytest.mark.parametrize("fuse", ["sum", "concat"])
def test_row_wise_loss_equals_the_whole_table_loss(name, side, fuse, tiny_graph):
    """BiasMF and NCF embed only the batch's rows; the loss and its gradients are the same as
    through the whole tables."""
    from ctrlrec.cf.base import CFModel

    torch.manual_seed(0)
    vec = torch.randn(10, 5) if side else None
    cold = tiny_graph[tiny_graph[:, 1] != 9]  # item 9 cold: its ID part is zeroed
    model = build(CFConfig(model=name, dim=8, reg=1e-2, fuse=fuse), 8, 10, cold, None, vec)
    with torch.no_grad():
        if name == "biasmf":
            model.item_bias.normal_()
    u, p, q = torch.tensor([0, 1, 2, 3]), torch.tensor([1, 2, 9, 4]), torch.tensor([9, 5, 6, 0])
    fast = sum(model.loss(u, p, q).values())
    fast.backward()
    g_fast = [x.grad.clone() for x in model.parameters() if x.grad is not None]
    model.zero_grad()
    model.row_wise = False
    slow = sum(CFModel.loss(model, u, p, q).values())
    slow.backward()
    g_slow = [x.grad.clone() for x in model.parameters() if x.grad is not None]
    torch.testing.assert_close(fast, slow)
    assert len(g_fast) == len(g_slow)
    for a, b in zip(g_fast, g_slow, strict=True):
        torch.testing.assert_close(a, b)
