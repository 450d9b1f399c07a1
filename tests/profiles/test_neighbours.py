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
    # user 2 has no training item (no text vector): no neighbours, and nobody's neighbour
    assert source == ["text", "text", "none"] and lists == [[1], [0], []]


def test_histories_are_oldest_first():
    import pandas as pd

    from ctrlrec.profiles.context import histories_of

    inter = pd.DataFrame({"user_id": [0, 0, 0, 1, 1], "item_id": [5, 2, 9, 2, 4],
                          "timestamp": [30, 10, 20, 7, 3]})
    train = np.array([[1, 2], [0, 9], [0, 5], [1, 4], [0, 2]])  # shuffled, as the random split keeps them
    assert histories_of(train, 3, inter) == [[2, 9, 5], [4, 2], []]
    assert histories_of(train, 3) == [[9, 5, 2], [2, 4], []]
