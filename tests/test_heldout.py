"""Held-out phrasings: no template frame of ctrlrec.intents, exact numbers, every kind, determinism."""

from __future__ import annotations

import random
import re
from fractions import Fraction

import pytest

from ctrlrec import intents as wording
from ctrlrec.eval.keywords import parse_keywords
from ctrlrec.heldout import (
    ALL_FRAMES,
    HELDOUT_SYNONYMS,
    NUMBER_WORDS,
    render_heldout,
    render_heldout_flavoured,
    render_heldout_intents,
    synonyms,
)
from ctrlrec.intents import Phrased, percent
from ctrlrec.scoring.intents import Intent

GENRES = ["Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
          "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
          "Thriller", "War", "Western"]
OTHER = ["Strategy", "RPG", "Free to Play", "Cell Phones & Accessories"]
KINDS = ("I1+", "I1-", "I2<=", "I2~", "I2>=")
PROPORTIONS = (0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9)
KS = (1, 3, 4, 5, 7, 8, 10, 12, 20, 25)
# The words of the proportion itself may be shared with the templates; no frame around them may.
QUANTIFIERS = {("at", "most"), ("at", "least"), ("or", "more")}


def _templates() -> list[str]:
    out = list(wording.POSITIVE) + list(wording.NEGATIVE)
    for pct_forms, cnt_forms in wording.PROPORTION.values():
        out += list(pct_forms) + list(cnt_forms)
    return out


def _tokens(text: str) -> list[str]:
    """Lowercase words; quotes around a category (not apostrophes inside words) are dropped."""
    text = re.sub(r"(?<![a-z])'|'(?![a-z])", " ", text.lower())
    return re.findall(r"[a-z0-9%.]+(?:'[a-z]+)?", text.replace(".", " "))


def _banned() -> set[tuple[str, ...]]:
    """Every fixed fragment of two or more words of a template, and every 3-word run inside one."""
    out = set()
    for t in _templates():
        for frag in re.split(r"\{[a-z]\}", t):
            toks = tuple(_tokens(frag))
            if len(toks) >= 2 and toks not in QUANTIFIERS:
                out.add(toks)
            out.update(toks[i:i + 3] for i in range(len(toks) - 2))
    return out


BANNED = _banned()


def _template_regexes() -> list[re.Pattern]:
    """Each template as a pattern: its fixed words in order, anything in its slots."""
    out = []
    for t in _templates():
        parts = [r"\W+".join(map(re.escape, _tokens(f))) for f in re.split(r"\{[a-z]\}", t)]
        body = r"\W+(.+?)\W+".join(p if p else "" for p in parts)
        out.append(re.compile(rf"^\W*{body}\W*$", re.IGNORECASE))
    return out


TEMPLATE_RES = _template_regexes()


def _shares_frame(text: str) -> tuple[str, ...] | None:
    toks = tuple(_tokens(text))
    for frag in BANNED:
        n = len(frag)
        if any(toks[i:i + n] == frag for i in range(len(toks) - n + 1)):
            return frag
    return None


def _draws(seed: int = 0, n: int = 3000):
    """(intent, k, phrased, flavour) over kinds, categories, k, m, forms and flavours."""
    rng = random.Random(seed)
    for j in range(n):
        kind = KINDS[j % len(KINDS)]
        c = rng.choice(GENRES + OTHER)
        k = rng.choice(KS)
        m = rng.choice(PROPORTIONS) if kind.startswith("I2") else None
        intent = Intent(kind, c, m)
        flavour = rng.choice((None, "name", "synonym"))
        phrased, used = render_heldout_flavoured(intent, k, rng, flavour=flavour)
        yield intent, k, phrased, used


def test_the_known_template_fragments_are_banned():
    assert ("i'm", "tired", "of") in BANNED
    assert ("of", "the") in BANNED
    assert ("no", "more", "than") in BANNED
    assert ("at", "most") not in BANNED
    assert _shares_frame("Two dramas, no more than that.") == ("no", "more", "than")


def test_no_frame_contains_a_template_fragment():
    for frame in ALL_FRAMES:
        for piece in re.split(r"\{[a-z]+\}", frame):
            assert _shares_frame(piece) is None, (frame, _shares_frame(piece))


def test_rendered_phrasings_share_no_template_frame():
    for _intent, _k, phrased, _ in _draws():
        text = phrased.text
        assert text
        assert _shares_frame(text) is None, (text, _shares_frame(text))
        assert not any(r.match(text) for r in TEMPLATE_RES), text
        # the category is never quoted (apostrophes inside words are fine)
        assert not re.search(r"(?<![A-Za-z])'|'(?![A-Za-z])", text), text


def test_the_template_regexes_catch_templates():
    rng = random.Random(1)
    for _ in range(50):
        kind = rng.choice(KINDS)
        it = Intent(kind, rng.choice(GENRES), 0.3 if kind.startswith("I2") else None)
        text = wording.render_intent(it, 10, rng).text
        assert any(r.match(text) for r in TEMPLATE_RES), text


def test_every_kind_returns_its_intent_and_form():
    seen = set()
    for intent, k, phrased, used in _draws(n=1000):
        assert isinstance(phrased, Phrased)
        assert phrased.intent == intent
        if intent.kind.startswith("I2"):
            assert phrased.form in ("count", "pct")
            if phrased.form == "count":
                assert intent.allowed(k).denominator == 1
        else:
            assert phrased.form == "plain"
        seen.add((intent.kind, phrased.form, used))
    for kind in KINDS:
        for flavour in ("name", "synonym"):
            forms = ("count", "pct") if kind.startswith("I2") else ("plain",)
            for form in forms:
                assert (kind, form, flavour) in seen
    assert render_heldout(Intent("I0"), 10, random.Random(0)) == Phrased("", Intent("I0"), "plain")
    assert render_heldout(Intent("I3", "Drama"), 5, random.Random(0)).text


def _numbers(text: str) -> list[int | str]:
    low = text.lower()
    out: list[int | str] = re.findall(r"\d+(?:\.\d+)?%", low)
    low = re.sub(r"\d+(?:\.\d+)?%", " ", low)
    out += [int(d) for d in re.findall(r"\b\d+\b", low)]
    out += [NUMBER_WORDS.index(w) for w in re.findall(r"[a-z]+", low) if w in NUMBER_WORDS]
    return out


def test_i2_states_the_exact_count_or_percent():
    for intent, k, phrased, _ in _draws(n=3000):
        if not intent.kind.startswith("I2"):
            continue
        nums = _numbers(phrased.text)
        if phrased.form == "count":
            n = int(intent.allowed(k))
            assert n in nums, (phrased.text, nums)
            assert set(nums) <= {n, k}, (phrased.text, nums)
        else:
            assert nums == [percent(intent.proportion)], (phrased.text, nums)


def test_count_form_needs_a_whole_k_times_m():
    with pytest.raises(ValueError):
        render_heldout(Intent("I2<=", "Drama", 0.3), 5, random.Random(0), form="count")
    p = render_heldout(Intent("I2<=", "Drama", 0.3), 5, random.Random(0))
    assert p.form == "pct" and "30%" in p.text
    p = render_heldout(Intent("I2>=", "Drama", 0.4), 10, random.Random(0), form="count")
    assert p.form == "count" and 4 in _numbers(p.text)


def test_deterministic_given_the_seed():
    a = [p.text for _, _, p, _ in _draws(seed=7, n=300)]
    b = [p.text for _, _, p, _ in _draws(seed=7, n=300)]
    c = [p.text for _, _, p, _ in _draws(seed=8, n=300)]
    assert a == b
    assert a != c


def test_synonym_flavour_uses_a_synonym_and_name_flavour_the_name():
    for intent, k, phrased, used in _draws(n=2000):
        low = phrased.text.lower()
        if used == "synonym":
            assert synonyms(intent.category)
            if phrased.form != "count":
                assert any(s.lower() in low for s in synonyms(intent.category)), phrased.text
        else:
            # the plain name is there literally: a keyword parser sees the category
            found = {i.category for i in parse_keywords(phrased.text, GENRES + OTHER, k)}
            assert intent.category in found, phrased.text


def test_synonym_lookup_is_tolerant():
    assert len(HELDOUT_SYNONYMS) == len(GENRES)
    assert set(HELDOUT_SYNONYMS) == set(GENRES)
    assert "scary" in synonyms("Horror")
    assert synonyms("sci-fi") == synonyms("Sci-Fi") == synonyms("SCIFI") == HELDOUT_SYNONYMS["Sci-Fi"]
    assert synonyms("Children") == synonyms("children's") == HELDOUT_SYNONYMS["Children's"]
    assert synonyms("Thrillers") == HELDOUT_SYNONYMS["Thriller"]
    assert synonyms("Strategy") == ()


def test_unknown_category_falls_back_to_its_name():
    for seed in range(20):
        p, used = render_heldout_flavoured(Intent("I1-", "Strategy"), 10, random.Random(seed),
                                           flavour="synonym")
        assert used == "name" and "strategy" in p.text.lower()
    p = render_heldout(Intent("I1+", "RPG"), 10, random.Random(0), flavour="name")
    assert "RPG" in p.text


def test_combined_intents():
    parts = (Intent("I2<=", "Drama", 0.2), Intent("I1-", "Horror"), Intent("I0"))
    text = render_heldout_intents(parts, 10, random.Random(3))
    again = render_heldout_intents(parts, 10, random.Random(3))
    assert text == again
    assert text.count(".") >= 2
    assert _shares_frame(text) is None


def test_bad_flavour_is_refused():
    with pytest.raises(ValueError):
        render_heldout(Intent("I1+", "Drama"), 10, random.Random(0), flavour="other")


def test_exact_share_is_what_the_scorer_reads():
    # a count phrasing only when k*m is whole, with the very number k*m
    rng = random.Random(5)
    for _ in range(200):
        k = rng.choice(KS)
        it = Intent("I2~", "Comedy", rng.choice(PROPORTIONS))
        p = render_heldout(it, k, rng)
        if p.form == "count":
            assert Fraction(int(it.allowed(k))) == it.allowed(k)
            assert int(it.allowed(k)) in _numbers(p.text)
        else:
            assert percent(it.proportion) in p.text
