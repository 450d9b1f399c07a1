import numpy as np
import torch

from ctrlrec.profiles.neighbours import neighbours, top_m


def test_top_m_by_cosine_without_self():
    v = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [0.7, 0.7]])
    all_users = np.arange(5)
    nb = top_m(v, 2, all_users, all_users)
    assert nb[0] == [1, 4] and nb[2] == [3, 4]
    assert all(u not in nb[u] for u in range(5))


def test_users_without_a_cf_embedding_fall_back_to_text():
    cf = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.0, 0.0]])
    cf_has = np.array([True, True, True, False])  # user 3: no training interaction in the CF run
    text = torch.tensor([[1.0, 0.0], [0.0, 1.0], [0.0, 1.0], [0.1, 0.9]])
    text_has = np.array([True, True, True, True])
    lists, source = neighbours(4, 1, cf, cf_has, text, text_has)
    assert source == ["cf", "cf", "cf", "text"]
    assert lists[0] == [1]  # by the CF embeddings (by text it would be nobody near)
    assert lists[3] in ([1], [2])  # by its text vector


def test_text_only_when_no_cf_run():
    text = torch.tensor([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0]])
    lists, source = neighbours(3, 5, None, None, text, np.array([True, True, False]))
    assert source == ["text", "text", "text"] and lists[2] == [1, 0] and lists[0] == [1]
