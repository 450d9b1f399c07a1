import copy

import pytest


@pytest.fixture(scope="session", autouse=True)
def _one_thread():
    """Tiny models run fastest on one thread, and the machine is shared."""
    import torch

    n = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(n)


@pytest.fixture(scope="session")
def _formatted():
    from tests.rl.helpers import formatted_tiny

    return formatted_tiny()


@pytest.fixture
def formatted(_formatted):
    """(model, tokenizer): a fresh copy of the tiny model that answers in the list format."""
    model, tok = _formatted
    return copy.deepcopy(model), tok
