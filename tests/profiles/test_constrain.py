import re

import pytest
import torch

from ctrlrec.errors import CtrlrecError
from ctrlrec.profiles import shape
from ctrlrec.profiles.build import first_profile
from ctrlrec.profiles.cache import GenerationCache, generate_cached
from ctrlrec.profiles.constrain import ShapeDecoder, heads
from tests.profiles.helpers import profile_tokenizer, tiny_chat

FIXED = re.compile(r"^User identity:[^,;:]+,[^,;:]+,[^,;:]+; User interests:[^,;:]+,[^,;:]+,[^,;:]+$")


def _decode(d: ShapeDecoder, rows, prefer, steps: int = 200) -> list[list[int]]:
    """Greedy decoding without a model: `prefer(row, last_token)` gives each step's scores."""
    proc = d.processor(rows)
    ids = torch.zeros((len(rows), 1), dtype=torch.long)
    out: list[list[int]] = [[] for _ in rows]
    done = [False] * len(rows)
    for _ in range(steps):
        scores = torch.stack([prefer(r, out[r][-1] if out[r] else None) for r in range(len(rows))])
        nxt = proc(ids, scores).argmax(-1)
        ids = torch.cat([ids, nxt[:, None]], 1)
        for r, t in enumerate(nxt.tolist()):
            if not done[r]:
                out[r].append(t)
                done[r] = t == d.end
        if all(done):
            return out
    raise AssertionError("a row never reached the end of turn")


def _one(tok, text: str) -> int:
    ids = tok(text, add_special_tokens=False)["input_ids"]
    assert len(ids) == 1, (text, ids)
    return ids[0]


def _words(tok, n: int) -> list[int]:
    """n single tokens that are words of two letters or more (the tiny tokenizer has few merges)."""
    out = [i for i in range(len(tok)) if tok.decode([i]).isalpha() and len(tok.decode([i])) >= 2]
    assert len(out) >= n
    return out[:n]


def test_a_model_that_repeats_itself_still_writes_six_distinct_phrases():
    tok = profile_tokenizer()
    d = ShapeDecoder(tok, [tok.eos_token_id], phrase_tokens=4)
    comma, words = _one(tok, ","), _words(tok, 3)
    first = tok.decode([words[0]]).lower()

    def prefer(r, last):  # always the same word, then a comma; never the end of turn
        s = torch.full((len(tok),), -5.0)
        for rank, w in enumerate(words):
            s[w] = 3.0 - rank
        s[comma] = 4.0 if last in words else -4.0
        s[tok.eos_token_id] = 10.0 if last is None else -10.0  # the model would stop at once
        return s

    [row] = _decode(d, [[""]], prefer)
    text = tok.decode(row[:-1])
    assert row[-1] == d.end and FIXED.match(text), text
    p = shape.parse(text)
    assert p.valid  # a repeat may not end a phrase: the model had to go on with its next choice
    assert p.identity[0].lower() == first and p.identity[1].lower() != first
    assert p.interests[0].lower() == first  # a new side: the word is allowed again


def test_a_phrase_is_cut_at_phrase_tokens_and_several_heads_make_lines():
    tok = profile_tokenizer()
    d = ShapeDecoder(tok, [tok.eos_token_id], phrase_tokens=3)
    words = _words(tok, 2)

    def prefer(r, last):  # never wants a comma: every phrase runs to the cap
        s = torch.full((len(tok),), -5.0)
        s[words[r % 2]] = 5.0
        return s

    rows = heads([3, 4], "collaborative", {3: [7], 4: [8]})
    assert rows == [["User 3: ", "User 7: "], ["User 4: ", "User 8: "]]
    out = _decode(d, rows, prefer)
    for r, ids in enumerate(out):
        lines = tok.decode(ids[:-1]).split("\n")
        assert [ln.split(":", 1)[0] for ln in lines] == [rows[r][0][:-2], rows[r][1][:-2]]
        for ln in lines:
            body = ln.split(": ", 1)[1]
            assert FIXED.match(body), body
            assert all(len(tok(p, add_special_tokens=False)["input_ids"]) == 3
                       for p in re.split(r"[,;]| User interests:", body.split(":", 1)[1]) if p)
        assert len(ids) <= d.budget(rows[r])


def test_a_tiny_model_writes_fixed_shape_profiles_greedy_and_sampled(tmp_path):
    model, tok = tiny_chat()
    prompts = [[{"role": "user", "content": f"Write the profile of user {u}"}] for u in range(5)]
    cache = GenerationCache(tmp_path / "c.jsonl")
    for seed in (None, 1):
        out = generate_cached(model, tok, prompts, cache, "tiny", batch_size=3, max_new_tokens=4,
                              progress=False, sample_seed=seed, heads=heads(range(5)))
        for text in out:
            assert FIXED.match(text), text
            p = shape.parse(text)
            assert len(p.identity) == len(p.interests) == 3
    users = heads([0, 1], "collaborative")
    lines = generate_cached(model, tok, prompts[:2], cache, "tiny", max_new_tokens=4, progress=False,
                            heads=users)
    for u, t in enumerate(lines):
        assert t.startswith(f"User {u}: ") and first_profile(t, u) == shape.canonical(t.split(": ", 1)[1])
    free = generate_cached(model, tok, prompts, cache, "tiny", max_new_tokens=4, progress=False)
    assert all(len(tok(t)["input_ids"]) <= 4 for t in free)  # free decoding: its own cache entries


def test_a_tokenizer_whose_glue_starts_a_phrase_is_refused():
    tok = profile_tokenizer()
    d = ShapeDecoder(tok, [tok.eos_token_id])
    with pytest.raises(CtrlrecError, match="starts with a phrase token"):
        d.literal("space,")
    with pytest.raises(CtrlrecError, match="phrase_tokens"):
        ShapeDecoder(tok, [tok.eos_token_id], phrase_tokens=0)
