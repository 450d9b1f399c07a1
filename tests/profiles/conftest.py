import numpy as np
import pytest
import torch


@pytest.fixture(autouse=True)
def _one_thread():
    torch.set_num_threads(1)
    torch.manual_seed(0)


@pytest.fixture
def fake_text(monkeypatch):
    """The sentence encoder replaced by a tiny deterministic one (no model load)."""
    from ctrlrec.cf import text

    class Fake:
        def encode(self, texts, **kw):
            out = np.array([[1.0, 0.1, len(t) % 7 / 7] if ("Space" in t or "space" in t) else
                            [0.1, 1.0, len(t) % 5 / 5] for t in texts], dtype=np.float32)
            return out / np.linalg.norm(out, axis=1, keepdims=True)

    monkeypatch.setattr(text, "_load_encoder", lambda encoder, device: Fake())
    return Fake()
