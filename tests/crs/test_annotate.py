"""The reward model's view of a recommendation: titles followed by their catalog categories, and a
reward model that reads them learning a category preference that carries over to unseen titles."""

from __future__ import annotations

import numpy as np

from ctrlrec.crs.annotate import MISSING, annotate, annotate_text
from ctrlrec.crs.dialogue import Dialogue, Feedback, Turn
from ctrlrec.crs.labels import LabelWeights
from ctrlrec.crs.rm_data import examples
from ctrlrec.scoring import Catalog
from tests.llm.tiny import TITLES


def _catalog() -> Catalog:
    """TITLES with a category drawn at random, so no letter of a title tells it."""
    cats = np.random.default_rng(1).permutation(["Comedy"] * 12 + ["Horror"] * 12)
    return Catalog(np.arange(len(TITLES)), TITLES, [[str(c)] for c in cats])


def test_titles_get_their_categories_and_unknown_titles_are_marked():
    cat = _catalog()
    c0 = cat.category_names[int(np.flatnonzero(cat.in_category(np.zeros(2, int), np.arange(2)))[0])]
    text = f"1. {TITLES[0]}\n2. Nothing Like Any Title\n3."
    got = annotate_text(text, cat)
    assert got.splitlines() == [f"1. {TITLES[0]} [{c0}]", f"2. Nothing Like Any Title {MISSING}", "3."]
    msgs = [{"role": "system", "content": "s"}, {"role": "user", "content": f"1. {TITLES[0]}"},
            {"role": "assistant", "content": text}]
    out = annotate(msgs, cat)
    assert out[:2] == msgs[:2] and out[2]["content"] == got  # only assistant turns change
    assert msgs[2]["content"] == text  # the input is not modified
    assert annotate(msgs, None) is msgs


def _dialogues(titles: list[str], cat: Catalog, n: int) -> list[Dialogue]:
    """A user who likes comedies: a comedy is accepted, a horror film refused (both in each state)."""
    rng = np.random.default_rng(0)
    comedy = cat.category("Comedy")
    idx = {t: i for i, t in enumerate(cat.titles)}
    good = [t for t in titles if cat.in_category(idx[t], comedy)]
    bad = [t for t in titles if not cat.in_category(idx[t], comedy)]
    yes, no = Feedback(True, 0.8, 90.0, True), Feedback(False, -0.6, 5.0, False)
    out = []
    for j in range(n):
        g, b = str(rng.choice(good)), str(rng.choice(bad))
        out.append(Dialogue(f"d{j}", [Turn("user", "I like comedies."),
                                      Turn("recommender", f"1. {g}", [], yes,
                                           [Turn("recommender", f"1. {b}", [], no)])]))
    return out


def test_reward_model_reading_categories_ranks_unseen_titles():
    import torch

    from ctrlrec.crs.reward_model import RewardModel, RMConfig, fit
    from tests.llm.tiny import tiny_model, tiny_tokenizer

    cat = _catalog()
    seen, unseen = TITLES[:16], TITLES[16:]
    torch.manual_seed(0)
    tok = tiny_tokenizer()
    rm = RewardModel(tiny_model(tok, init=0.02), tok, lora_r=8, lora_alpha=16, max_length=64, catalog=cat)
    exs = examples(_dialogues(seen, cat, 40), LabelWeights(), k=1)
    fit(rm, exs, RMConfig(steps=60, batch_pairs=8, learning_rate=1e-2, valid_share=0.25, eval_every=60),
        None, progress=False)

    def conv(t):
        return [{"role": "user", "content": "I like comedies."}, {"role": "assistant", "content": f"1. {t}"}]

    comedy = cat.category("Comedy")
    s = rm.score([conv(t) for t in unseen])
    liked = np.array([bool(cat.in_category(TITLES.index(t), comedy)) for t in unseen])
    assert 0 < liked.sum() < len(unseen)
    wins = (s[liked][:, None] > s[~liked][None, :]).mean()
    assert wins >= 0.9  # every unseen comedy above (nearly) every unseen horror film
