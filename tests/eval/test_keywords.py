"""The keyword baseline: every template of ctrlrec.intents parses back; synonyms are out of its reach."""

from __future__ import annotations

import random

import pytest

from ctrlrec import intents as wording
from ctrlrec.eval.keywords import parse_keywords
from ctrlrec.scoring.intents import Intent

GENRES = ["Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary",
          "Drama", "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi",
          "Thriller", "War", "Western"]
# names of other datasets, with spaces, digits, '&', a comma and joining words inside
OTHER = ["Free to Play", "Hack and Slash", "RPG", "2D", "Cell Phones & Accessories",
         "Clothing, Shoes & Jewelry", "Action RPG"]
PROPORTIONS = (0.0, 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, 1.0, 0.125, 0.333)


@pytest.mark.parametrize("cats", [GENRES, OTHER + ["Action"]], ids=["ml-100k", "other"])
def test_every_plain_template_parses_back(cats):
    for c in cats:
        for t in wording.POSITIVE:
            assert parse_keywords(t.format(c=c), cats, 10) == (Intent("I1+", c),), t.format(c=c)
        for t in wording.NEGATIVE:
            assert parse_keywords(t.format(c=c), cats, 10) == (Intent("I1-", c),), t.format(c=c)


@pytest.mark.parametrize("cats", [GENRES, OTHER + ["Action"]], ids=["ml-100k", "other"])
def test_every_proportion_template_parses_back(cats):
    checked = 0
    for kind, (pct_forms, cnt_forms) in wording.PROPORTION.items():
        for c in cats:
            for m in PROPORTIONS:
                it = Intent(kind, c, m)
                for t in pct_forms:
                    text = t.format(c=c, p=wording.percent(m), k=10)
                    assert parse_keywords(text, cats, 10) == (it,), text
                    checked += 1
                for k in wording.COUNT_FRIENDLY_K + (3, 7, 12):
                    if it.allowed(k).denominator != 1:
                        continue
                    for t in cnt_forms:
                        text = t.format(c=c, n=int(it.allowed(k)), k=k)
                        assert parse_keywords(text, cats, k) == (it,), text
                        checked += 1
    assert checked > 1000


def test_rendered_and_combined_templates_parse_back():
    rng = random.Random(0)
    kinds = ("I1+", "I1-", "I2<=", "I2~", "I2>=")
    for _ in range(500):
        k = rng.choice(wording.COUNT_FRIENDLY_K)
        a, b = rng.sample(GENRES, 2)
        kind = rng.choice(kinds)
        first = Intent(kind, a, rng.choice(PROPORTIONS) if kind.startswith("I2") else None)
        parts = (first, Intent("I1-", b))
        text = wording.render_intents(parts, k, rng)
        assert parse_keywords(text, GENRES, k) == parts, text


def test_literal_forms_are_found():
    for text, cat in [("no scifi", "Sci-Fi"), ("more sci fi", "Sci-Fi"), ("SCI-FI!", "Sci-Fi"),
                      ("childrens stuff", "Children's"), ("for children", "Children's"),
                      ("comedies", "Comedy"), ("a film noir", "Film-Noir"), ("westerns", "Western"),
                      ("Children’s films", "Children's")]:
        assert {i.category for i in parse_keywords(text, GENRES, 10)} == {cat}, text
    # a longer name wins over the shorter one inside it
    assert parse_keywords("some action rpg", ["Action", "Action RPG"], 10) == (Intent("I1+", "Action RPG"),)
    # words that merely contain a name do not count
    assert parse_keywords("a warm award-winning story", GENRES, 10) == (Intent("I0"),)


def test_cues_and_numbers():
    cats = GENRES
    assert parse_keywords("Up to two dramas, no more.", cats, 10) == (Intent("I2<=", "Drama", 0.2),)
    assert parse_keywords("half of it comedy at least", cats, 10) == (Intent("I2>=", "Comedy", 0.5),)
    assert parse_keywords("around a quarter horror", cats, 8) == (Intent("I2~", "Horror", 0.25),)
    assert parse_keywords("Out of ten, at least three westerns.", cats, 10) == (
        Intent("I2>=", "Western", 0.3),)
    assert parse_keywords("roughly 30 percent drama", cats, 10) == (Intent("I2~", "Drama", 0.3),)
    # a proportion cue without a number is no proportion
    assert parse_keywords("around dramas", cats, 10) == (Intent("I1+", "Drama"),)
    # clauses: each category reads its own cues
    assert parse_keywords("comedies but no horror", cats, 10) == (
        Intent("I1+", "Comedy"), Intent("I1-", "Horror"))
    assert parse_keywords("anything but westerns", cats, 10) == (Intent("I1-", "Western"),)
    assert parse_keywords("Keep thrillers out, please", cats, 10) == (Intent("I1-", "Thriller"),)


def test_nothing_named_is_i0():
    assert parse_keywords("", GENRES, 10) == (Intent("I0"),)
    assert parse_keywords("Surprise me with something good.", GENRES, 10) == (Intent("I0"),)


def test_synonyms_are_beyond_the_baseline():
    # the limit this baseline documents: no category is named, so nothing is found
    for text in ("Nothing scary please.", "Keep it free of spooky stuff.", "I could use a laugh.",
                 "Something funny tonight.", "Love stories only.", "No cowboy picks, thanks."):
        assert parse_keywords(text, GENRES, 10) == (Intent("I0"),), text
    assert Intent("I1-", "Horror") not in parse_keywords("Nothing scary please", GENRES, 10)


def test_name_flavoured_heldout_phrase():
    assert parse_keywords("no westerns tonight", GENRES, 10) == (Intent("I1-", "Western"),)
    assert parse_keywords("No westerns tonight, thanks.", GENRES, 10) == (Intent("I1-", "Western"),)
