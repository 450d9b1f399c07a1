"""Reward placement: each title's reward lands on the token that completes it, for two tokenizer
families (byte-level BPE and SentencePiece-style Unigram), with spaces, punctuation, non-ASCII titles,
pieces that straddle a title's end, and titles split over several tokens."""

import pytest
import torch

from ctrlrec.rl.placement import char_to_token, prefix_ends, title_end_tokens, token_rewards
from ctrlrec.scoring import parse_lines
from tests.rl.helpers import tiny_tokenizer, unigram_tokenizer

RESPONSE = ("1. Amélie (2001)\n2. Star Wars: Episode IV - A New Hope (1977)\n3. Movie AB (1980)\n"
            "- \"Léon: The Professional (1994)\"\n5. Café")


@pytest.fixture(scope="module", params=["byte-level BPE", "unigram"])
def tok(request):
    return tiny_tokenizer() if request.param == "byte-level BPE" else unigram_tokenizer()


def _encode(tok, text):
    ids = tok(text, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
    return ids, tok.decode(ids, skip_special_tokens=True)


def test_prefix_ends_are_monotone_and_complete(tok):
    ids, text = _encode(tok, RESPONSE)
    assert text == RESPONSE  # both tokenizers round-trip this text
    ends = prefix_ends(tok, ids, text)
    assert (ends[1:] >= ends[:-1]).all() and ends[-1] == len(text) and ends[0] >= 0


def test_title_end_token_is_first_token_completing_the_title(tok):
    ids, text = _encode(tok, RESPONSE)
    spans = parse_lines(text).spans
    assert [text[s:e] for s, e in spans] == ["Amélie (2001)", "Star Wars: Episode IV - A New Hope (1977)",
                                             "Movie AB (1980)", "Léon: The Professional (1994)", "Café"]
    got = title_end_tokens(tok, ids, spans, text)
    for (s, e), t in zip(spans, got, strict=True):
        title = text[s:e]
        upto = tok.decode(ids[: t + 1], skip_special_tokens=True)
        before = tok.decode(ids[:t], skip_special_tokens=True)
        assert upto.startswith(text[:e]), title  # token t completes the title...
        assert not before.startswith(text[:e]), title  # ...and the tokens before it do not
    assert got == sorted(got) and len(set(got)) == len(got)
    assert got[-1] == len(ids) - 2  # "Café" ends on the last content token, not on the end-of-turn token


def test_byte_level_multi_token_character():
    tok = tiny_tokenizer()
    ids, text = _encode(tok, "1. Café")
    pieces = [tok.decode([i]) for i in ids]
    assert "é" not in "".join(pieces)  # é is two byte tokens here, each decoding to a partial character
    [t] = title_end_tokens(tok, ids, parse_lines(text).spans, text)
    assert t == len(ids) - 2  # the token carrying é's second byte, not its first
    assert tok.decode(ids[:t]).endswith("Caf\ufffd") and tok.decode(ids[: t + 1]).endswith("Café")


def test_unigram_piece_straddling_title_end():
    tok = unigram_tokenizer()
    ids, text = _encode(tok, RESPONSE)
    pieces = tok.convert_ids_to_tokens(ids)
    got = title_end_tokens(tok, ids, parse_lines(text).spans, text)
    assert pieces[got[0]] == ")\n"  # "(2001)" ends inside the piece ")\n": that piece carries the reward
    assert pieces[got[4]].endswith("é")


def test_title_with_template_text_around():
    # the chat template and prompt never enter placement: offsets are into the response alone
    tok = tiny_tokenizer()
    ids, text = _encode(tok, "Here you go:\n\n1. Movie AB (1980)\n\n2. Movie CD (1983)\n")
    spans = parse_lines(text).spans
    got = title_end_tokens(tok, ids, spans, text)
    assert [tok.decode(ids[: t + 1]).rstrip("\n").endswith(")") for t in got[1:]] == [True, True]


def test_char_to_token():
    ends = torch.tensor([2, 2, 5, 9]).numpy()
    assert char_to_token(ends, 1) == 0 and char_to_token(ends, 2) == 0
    assert char_to_token(ends, 3) == 2 and char_to_token(ends, 9) == 3
    assert char_to_token(ends, 0) == 0 and char_to_token(ends, 99) == 3


def test_token_rewards_layout():
    logp = torch.tensor([-1.0, -2.0, -1.0, -0.5])
    ref = torch.tensor([-1.5, -2.0, -0.5, -0.5])
    r = token_rewards(4, [1, 1, 2], [0.5, 0.25, -1.0], 0.3, 10.0, logp, ref, kl_coef=0.3)
    kl = -0.3 * (logp - ref)
    want = kl + torch.tensor([0.0, 0.75, -1.0, 3.0])
    assert r.tolist() == pytest.approx(want.tolist())
    r3 = token_rewards(4, [1, 1, 2], [0.5, 0.25, -1.0], 0.3, 10.0, logp, ref, kl_coef=0.3, item_reward=False)
    assert r3.tolist() == pytest.approx((kl + torch.tensor([0.0, 0.0, 0.0, 3.0])).tolist())
    assert token_rewards(1, [], [], -0.5, 10.0).tolist() == [-5.0]


def test_list_reward_spread_over_the_titles():
    # 3 titles ending at tokens 1, 1 and 3: each gets a third of list_scale * R_list
    r = token_rewards(5, [1, 1, 3], [0.0, 0.0, 0.0], 0.3, 10.0, list_credit="titles")
    assert r.tolist() == pytest.approx([0.0, 2.0, 0.0, 1.0, 0.0])
    assert float(r.sum()) == pytest.approx(3.0)  # the same total as on the last token
    # no title: the list reward stays on the last token
    assert token_rewards(3, [], [], 0.3, 10.0, list_credit="titles").tolist() == pytest.approx(
        [0.0, 0.0, 3.0])
