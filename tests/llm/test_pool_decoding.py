"""Pool-restricted and teacher-guided catalog decoding (RowSpec.pool, guide_items/guide_scores/guidance).

A "scripted" model stands in where preferences matter: logits that are flat (all 0) except for a
boost on the next token of a chosen answer while the answer so far follows it, so token order (what
flat greedy decoding picks) and the model's preference can be made to differ on purpose.
"""

from __future__ import annotations

import math
import random

import numpy as np
import pandas as pd
import pytest

from ctrlrec.errors import CtrlrecError
from ctrlrec.intents import messages, user_prompt
from ctrlrec.llm import trie as trie_mod
from ctrlrec.llm.decoding import CatalogDecoder, RowSpec, bounds, decode
from ctrlrec.llm.generate import GenerationConfig, generate
from ctrlrec.scoring import Catalog, Intent, parse_lines, score
from tests.llm.test_decoding import ALL_TITLES, _cats
from tests.llm.tiny import tiny_model, tiny_tokenizer

ACTION = [i for i in range(24) if "Action" in _cats(i)]  # 0, 4, ..., 20 (no prefix titles among them)


@pytest.fixture(scope="module")
def env():
    import torch

    torch.set_num_threads(1)
    tok = tiny_tokenizer()
    cat = Catalog.from_frame(pd.DataFrame({
        "item_id": range(len(ALL_TITLES)), "title": ALL_TITLES,
        "categories": [_cats(i) for i in range(len(ALL_TITLES))]}))
    return tok, cat, CatalogDecoder(tok, cat, cache=False), tiny_model(tok, seed=0)


def _prompts(specs):
    return [messages(user_prompt(s.k, [ALL_TITLES[h] for h in s.history], "")) for s in specs]


def _cfg(sample=False, seed=0):
    return GenerationConfig(max_new_tokens=8, batch_size=4, do_sample=sample, temperature=1.5, seed=seed)


class Scripted:
    """Flat logits plus `boost` on the next token of each row's preferred token sequence (while the
    answer follows it), then the constrained processor."""

    def __init__(self, inner, prefer: list[list[int]], boost: float):
        self.inner, self.prefer, self.boost, self.plen = inner, prefer, boost, None

    def __call__(self, input_ids, scores):
        import torch

        if self.plen is None:
            self.plen = input_ids.shape[1]
        scores = torch.zeros_like(scores)
        for row, seq in enumerate(self.prefer):  # test code: a loop over rows is fine here
            gen = input_ids[row, self.plen:].tolist()
            if len(gen) < len(seq) and gen == seq[: len(gen)]:
                scores[row, seq[len(gen)]] = self.boost
        return self.inner(input_ids, scores)


def _answer_ids(env, titles: list[str]) -> list[int]:
    """The tokens the decoder emits for the list `titles`: markers, title pieces, end of turn."""
    tok, _, dec, _ = env
    out = []
    for j, piece in enumerate(trie_mod.title_pieces(tok, titles)):
        out += dec.glue[j, : dec.glue_len[j]].tolist() + piece
    return out + [dec.eos]


def _scripted(env, specs, prefer=None, boost=5.0):
    """Greedy answers of `specs` under the scripted model (prefer: a list of titles per row)."""
    tok, _, dec, model = env
    prefer = prefer or [[] for _ in specs]
    seqs = [_answer_ids(env, p) if p else [] for p in prefer]
    make = dec.factory(specs)

    def factory(idx):
        return Scripted(make(idx), [seqs[i] for i in idx], boost)

    cfg = _cfg()
    cfg.max_new_tokens = dec.max_new_tokens(max(s.k for s in specs))
    out = generate(model, tok, _prompts(specs), cfg, progress=False, processors=factory)
    return [t.split("\n") for t in out]


def _titles(lines):
    return [line.split(". ", 1)[1] for line in lines]


def _token_order(dec, items):
    """Catalog indexes sorted by their titles' token sequences (the trie's order)."""
    return sorted(items, key=lambda i: dec.inv[i])


# -- pool --------------------------------------------------------------------------------------------
def _usable(spec):
    seen = {ALL_TITLES[h] for h in spec.history}
    return sorted({ALL_TITLES[i] for i in spec.pool} - seen)


def _satisfiable(cat, spec, usable):
    it = spec.intents[0]
    n_c = sum(bool(cat.in_category(ALL_TITLES.index(t), cat.category(it.category))) for t in usable)
    n_o = len(usable) - n_c
    if it.kind == "I1+":
        return n_c >= spec.k
    if it.kind == "I1-":
        return n_o >= spec.k
    lo, hi = bounds(it, spec.k)
    return any(c <= n_c and spec.k - c <= n_o for c in range(lo, hi + 1))


@pytest.mark.parametrize("sample", [False, True])
def test_pool_rows_only_emit_pool_titles_distinct_outside_history(env, sample):
    tok, cat, dec, model = env
    rng = random.Random(5 + sample)
    specs = []
    for r in range(16):
        pool = tuple(rng.sample(range(len(ALL_TITLES)), rng.randint(2, 16)))
        hist = tuple(rng.sample(range(len(ALL_TITLES)), rng.randint(0, 5)))
        k = rng.randint(1, 8)
        if r % 2:
            kind = rng.choice(["I1+", "I1-", "I2<=", "I2>="])
            intent = Intent(kind, rng.choice(["Action", "Comedy", "Drama"]),
                            rng.choice([0.25, 0.5, 0.75]) if kind.startswith("I2") else None)
            specs.append(RowSpec(k, "guaranteed", hist, (intent,), pool=pool))
        else:
            specs.append(RowSpec(k, "catalog", hist, pool=pool))
    checked = 0
    out = decode(model, tok, dec, _prompts(specs), specs, _cfg(sample, 1))
    for spec, text in zip(specs, out, strict=True):
        usable = _usable(spec)
        lines = text.split("\n") if text else []
        titles = _titles(lines)
        assert len(lines) == min(spec.k, len(usable)), (spec, text)
        assert [line.split(". ", 1)[0] for line in lines] == [str(j + 1) for j in range(len(lines))]
        assert set(titles) <= set(usable), (spec, text)  # in the pool, not in the history
        assert len(set(titles)) == len(titles)
        assert parse_lines(text).titles == titles
        if spec.mode == "guaranteed" and len(lines) == spec.k and _satisfiable(cat, spec, usable):
            m = score(cat, text, spec.k, spec.intents, list(spec.history)).metrics
            kind = spec.intents[0].kind
            want = {"I1+": ("TCP", 1.0), "I1-": ("TCP", 0.0)}.get(kind, ("CPA", 1))
            assert m[want[0]] == want[1], (spec, text)
            checked += 1
    assert checked >= 3


def test_a_pool_of_untitled_or_used_items_ends_the_list(env):
    tok, _, dec, model = env
    specs = [RowSpec(5, "catalog", (3,), pool=(3, 7)), RowSpec(3, "catalog", (26,), pool=(1,)),
             RowSpec(3, "catalog", (), pool=(1, 26))]  # 26 repeats item 1's title
    out = decode(model, tok, dec, _prompts(specs), specs, _cfg())
    assert out[0] == f"1. {ALL_TITLES[7]}"
    assert out[1] == ""
    assert out[2] == f"1. {ALL_TITLES[1]}"


@pytest.mark.parametrize("kind", ["I1+", "I1-", "I2<=", "I2>="])
def test_guaranteed_within_a_pool_meets_the_intent(env, kind):
    _, cat, dec, _ = env
    pool = (0, 1, 2, 3, 4, 5, 8, 9, 12, 13)  # Action: 0, 4, 8, 12
    intent = Intent(kind, "Action", 0.5 if kind.startswith("I2") else None)
    spec = RowSpec(4, "guaranteed", (5,), (intent,), pool=pool)
    # the model wants non-Action titles for I1+ / I2>= and Action ones for I1- / I2<=
    wanted = [ALL_TITLES[i] for i in ((1, 2, 3, 9) if kind in ("I1+", "I2>=") else (0, 4, 8, 12))]
    lines = _scripted(env, [spec], [wanted])[0]
    titles = _titles(lines)
    assert len(titles) == 4 and set(titles) <= {ALL_TITLES[i] for i in pool if i != 5}
    n_c = sum(ALL_TITLES.index(t) in ACTION for t in titles)
    lo, hi = bounds(intent, 4) if kind.startswith("I2") else (4, 4) if kind == "I1+" else (0, 0)
    assert lo <= n_c <= hi, titles
    m = score(cat, "\n".join(lines), 4, spec.intents, [5]).metrics
    want = {"I1+": ("TCP", 1.0), "I1-": ("TCP", 0.0)}.get(kind, ("CPA", 1))
    assert m[want[0]] == want[1], titles


def test_guaranteed_within_a_pool_ranks_compliant_titles_by_the_model(env):
    _, _, dec, _ = env
    pool = (0, 1, 2, 3, 4, 5, 8, 9, 12, 13)
    spec = RowSpec(3, "guaranteed", (), (Intent("I1+", "Action"),), pool=pool)
    compliant = _token_order(dec, [i for i in pool if i in ACTION])  # 0, 4, 8, 12
    flat = _titles(_scripted(env, [spec])[0])
    assert flat == [ALL_TITLES[i] for i in compliant[:3]]  # flat greedy follows token order
    wanted = [ALL_TITLES[i] for i in reversed(compliant[1:])]  # last in token order first: 12, 8, 4
    assert _titles(_scripted(env, [spec], [wanted])[0]) == wanted
    # a preferred title the intent forbids is skipped; the next compliant pick is still the model's
    off = [ALL_TITLES[1], ALL_TITLES[12]]
    first = _titles(_scripted(env, [spec], [off])[0])[0]
    assert first in {ALL_TITLES[i] for i in compliant}


# -- teacher guidance --------------------------------------------------------------------------------
def _guided(k, items, scores, guidance, **kw):
    return RowSpec(k, kw.pop("mode", "catalog"), guide_items=tuple(items), guide_scores=tuple(scores),
                   guidance=guidance, **kw)


def test_guidance_moves_the_first_title_to_the_teachers_favourite(env):
    _, _, dec, _ = env
    a = int(dec.trie.order[0])  # flat greedy picks the first title in token order
    b = 23  # "Movie FD (1988)", last in token order
    items, scores = (a, b, 7), (0.0, 5.0, 1.0)
    plain, weak, strong = _scripted(env, [_guided(1, items, scores, 0.0), _guided(1, items, scores, 0.01),
                                          _guided(1, items, scores, 4.0)])
    assert _titles(plain) == [ALL_TITLES[a]] != [ALL_TITLES[b]]
    assert _titles(strong) == [ALL_TITLES[b]]
    assert _titles(weak) == [ALL_TITLES[b]]  # a flat model: any positive weight decides
    # against a model that prefers a, a weak teacher loses and a strong one wins
    prefer = [[ALL_TITLES[a]]] * 2
    weak, strong = _scripted(env, [_guided(1, items, scores, 0.1), _guided(1, items, scores, 4.0)], prefer)
    assert _titles(weak) == [ALL_TITLES[a]]
    assert _titles(strong) == [ALL_TITLES[b]]


def test_with_a_flat_model_the_lines_follow_the_teachers_scores(env):
    _, cat, dec, _ = env
    items = [3, 20, 9, 14, 0, 17]
    scores = [8.0, 12.0, 2.0, 6.0, 10.0, 4.0]  # gaps of 2: each weight outweighs all smaller ones
    by_score = [i for _, i in sorted(zip(scores, items, strict=True), reverse=True)]
    assert by_score != _token_order(dec, items)
    spec = _guided(6, items, scores, 1.0)
    hist = _guided(4, items, scores, 1.0, history=(20,), pool=tuple(range(18)))  # 20 out twice over
    intent = _guided(3, items, scores, 1.0, mode="guaranteed", intents=(Intent("I1-", "Action"),))
    out = _scripted(env, [spec, hist, intent])
    assert _titles(out[0]) == [ALL_TITLES[i] for i in by_score]
    assert _titles(out[1]) == [ALL_TITLES[i] for i in by_score if i != 20][:4]
    assert _titles(out[2]) == [ALL_TITLES[i] for i in by_score if i not in ACTION][:3]


def _walk_bias(proc, seq, vocab, k_rows=1):
    """Feed `seq` (one row) through the processor with zero scores; the bias of each fed token."""
    import torch

    ids = torch.zeros((1, 1), dtype=torch.long)
    out = []
    for x in seq:
        step = proc(ids, torch.zeros((1, vocab)))
        assert torch.isfinite(step[0, x]), x  # the fed token is allowed
        out.append(float(step[0, x]))
        ids = torch.cat([ids, torch.tensor([[x]])], 1)
    return out


@pytest.mark.parametrize("guidance", [1.0, 2.5])
def test_the_bias_over_a_title_is_the_teachers_log_probability(env, guidance):
    tok, _, dec, _ = env
    vocab = len(tok)
    items, scores = (26, 24, 25, 1, 7, 20), (3.5, 1.0, 2.5, 3.0, -1.0, 0.5)  # prefix titles, a duplicate
    hist = (9,)
    w = dec.title_weights(_guided(1, items, scores, guidance))
    assert w[dec.inv[1]] == pytest.approx(np.exp(3.5) / np.exp(scores).sum())  # the duplicate's max
    allowed = np.ones(dec.trie.n_titles, bool)
    allowed[dec.inv[9]] = False
    for title in ["Movie AA", "Movie AA (1980)", "Movie AB (1981)", "Movie B", "Movie CC (1984)"]:
        pos = dec.inv[ALL_TITLES.index(title)]
        seq = _answer_ids(env, [title])
        n_glue = int(dec.glue_len[0])
        spec = _guided(1, items, scores, guidance, history=hist)
        biases = _walk_bias(dec.processor([spec]), seq, vocab)
        assert biases[:n_glue] == [0.0] * n_glue
        expected = guidance * math.log(w[pos] / w[allowed].sum())
        assert sum(biases[n_glue:]) == pytest.approx(expected, rel=1e-6, abs=1e-6), title  # float32 logits


def test_guidance_leaves_free_and_unguided_rows_alone(env):
    import torch

    tok, _, dec, _ = env
    specs = [RowSpec(3, "free"), RowSpec(3, "catalog"), _guided(3, (1, 2), (0.0, 4.0), 3.0),
             _guided(3, (1, 2), (0.0, 4.0), 3.0, mode="free")]
    proc = dec.processor(specs)
    ids = torch.zeros((4, 1), dtype=torch.long)
    for x in dec.glue[0, : dec.glue_len[0]].tolist() + [265, None]:  # the marker, " Movie", one more
        scores = torch.randn(4, len(tok))
        out = proc(ids, scores.clone())
        assert torch.equal(out[0], scores[0]) and torch.equal(out[3], scores[3])
        ok = torch.isfinite(out[1])
        assert torch.equal(out[1][ok], scores[1][ok]) and torch.equal(torch.isfinite(out[2]), ok)
        if x is not None:
            ids = torch.cat([ids, torch.full((4, 1), x)], 1)
    assert ok.sum() > 1
    moved = (out[2] - scores[2])[torch.isfinite(out[2])]
    assert moved.abs().max() > 0.1  # inside the title the guided row is biased


def test_bad_pool_and_guide_fields_are_user_errors(env):
    _, _, dec, _ = env
    with pytest.raises(CtrlrecError, match="guide_scores"):
        RowSpec(3, guide_items=(1, 2), guide_scores=(1.0,), guidance=1.0)
    with pytest.raises(CtrlrecError, match="guide_scores"):
        RowSpec(3, guide_items=(1,), guide_scores=(float("nan"),))
    with pytest.raises(CtrlrecError, match="guidance"):
        RowSpec(3, guide_items=(1,), guide_scores=(1.0,), guidance=-0.5)
    with pytest.raises(CtrlrecError, match="guidance"):
        RowSpec(3, guidance=float("inf"))
    with pytest.raises(CtrlrecError, match="pool"):
        RowSpec(3, pool=(1, -2))
    with pytest.raises(CtrlrecError, match="guide_items"):
        RowSpec(3, guide_items=(1.5,), guide_scores=(1.0,))
    with pytest.raises(CtrlrecError, match="pool: catalog index 99"):
        dec.processor([RowSpec(3, pool=(1, 99))])
    with pytest.raises(CtrlrecError, match="guide_items: catalog index"):
        dec.processor([RowSpec(3, guide_items=(99,), guide_scores=(1.0,), guidance=1.0)])
    assert RowSpec(3, pool=np.array([2, 1])).pool == (2, 1)


# -- tagged answers ("[Comedy] 'Title'") -----------------------------------------------------------------
@pytest.mark.parametrize("kind", ["I1+", "I1-"])
def test_tagged_decoder_writes_each_pool_item_as_the_pool_lists_it(env, kind):
    from ctrlrec.intents import tagged

    tok, cat, _, model = env
    dec = CatalogDecoder(tok, cat, cache=False, tagged=True)
    pool = (0, 1, 2, 3, 4, 5, 8, 9, 12, 13)
    specs = [RowSpec(4, "catalog", (5,), pool=pool),
             RowSpec(3, "guaranteed", (5,), (Intent(kind, "Action"),), pool=pool)]
    out = decode(model, tok, dec, _prompts(specs), specs, _cfg(True, 3))
    lines = {tagged(ALL_TITLES[i], _cats(i)): i for i in pool if i != 5}
    for spec, text in zip(specs, out, strict=True):
        got = [line.split(". ", 1)[1] for line in text.split("\n")]
        assert len(got) == spec.k and len(set(got)) == spec.k and set(got) <= set(lines), text
        titles = parse_lines(text).titles
        assert titles == [ALL_TITLES[lines[g]] for g in got]  # scoring reads the bare titles
        m = score(cat, text, spec.k, spec.intents or "I0", list(spec.history)).metrics
        assert m["NonExist"] == 0 and m["RepeatItem"] == 0 and m["InHistory"] == 0
        if spec.mode == "guaranteed":
            assert m["TCP"] == (1.0 if kind == "I1+" else 0.0), text
