"""Parsing (spec §2.1, §7) and grounding (§2.2): exact, normalised, edit distance <= 3, ties."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ctrlrec.errors import CtrlrecError
from ctrlrec.scoring import Catalog, Intent, normalise, parse_lines, score
from ctrlrec.scoring.fuzzy import FuzzyIndex, nearest_by_scan
from ctrlrec.scoring.parse import parse_many, parse_titles
from tests.scoring.conftest import ROWS, frame


def test_markers_quotes_blank_lines_and_spans():
    text = (' 1. "Heat (1995)"\r\n\n  \n2)Fargo\n- 2001: A Space Odyssey\n3.\n*Babe  \n'
            '\u2018Jaws\u2019\n12 Monkeys')
    p = parse_lines(text)
    assert p.titles == ["Heat (1995)", "Fargo", "2001: A Space Odyssey", "", "Babe", "Jaws", "12 Monkeys"]
    assert [text[a:b] for a, b in p.spans] == p.titles
    assert parse_titles(text) == p.titles


def test_one_marker_only_and_numbers_kept():
    assert parse_lines("1. 2. Heat").titles == ["2. Heat"]
    assert parse_lines("2001: A Space Odyssey (1968)").titles == ["2001: A Space Odyssey (1968)"]
    assert parse_lines("- - x\n-").titles == ["- x", ""]
    assert parse_lines("").titles == [] and parse_lines("\n \t\n").titles == []


def test_tagged_lines_lose_their_tag_only_before_a_quoted_title():
    text = "1. [Comedy, Drama] 'Heat (1995)'\n2.[no category]  \u2018Jaws\u2019\n3. [PROTOTYPE]\n4. [A] B"
    p = parse_lines(text)
    assert p.titles == ["Heat (1995)", "Jaws", "[PROTOTYPE]", "[A] B"]
    assert [text[a:b] for a, b in p.spans] == p.titles
    assert parse_titles(text) == p.titles


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab1.)-*[]\"' \t\n\r\u2019\u3000\x00")), max_size=40))
def test_fast_parse_equals_plain_parse(text):
    p = parse_lines(text)
    assert parse_titles(text) == p.titles
    assert [text[a:b] for a, b in p.spans] == p.titles


@settings(max_examples=300, deadline=None)
@given(st.lists(st.text(alphabet=st.sampled_from(list("ab1.)-*\"' \t\n\r\u2019\u3000\x00")), max_size=30),
                max_size=7))
def test_batch_parse_equals_one_text_at_a_time(texts):
    per_text = [parse_titles(t) for t in texts]
    clean = [t.replace("\x00", "") for t in texts]  # the joined fast path (NUL is its separator)
    for batch, expected in ((texts, per_text), (clean, [parse_titles(t) for t in clean])):
        for chunk in (2, 4096):
            titles, counts = parse_many(batch, chunk)
            assert counts.tolist() == [len(t) for t in expected]
            assert titles == [x for t in expected for x in t]


def test_normalise():
    assert normalise("  \uff28eat,  The (1995)!! ") == "heat the 1995"
    assert normalise("Stra\u00dfe") == "strasse"  # case-fold, not lower


def test_grounding_steps(cat):
    assert cat.ground("Heat (1995)") == 0
    assert cat.ground("heat 1995") == 0                   # normalised
    assert cat.ground("Haet (1995)") == 0                 # distance 2
    assert cat.ground("Hxxx (1995)") == 0                 # distance 3
    assert cat.ground("Hxxxx (1995)") == -1               # distance 4
    assert cat.ground("") == -1                           # empty raw title: non-existent
    assert cat.ground_many(["Heat (1995)", "nope", "fargo (1996)"]).tolist() == [0, -1, 1]


def test_ties_go_to_the_earlier_catalog_row_not_the_smaller_id():
    rows = [(5, "Cab", ["A"]), (2, "Cat", ["A"]), (9, "Dog", ["B"])]
    for order, first in ((rows, 5), (rows[::-1], 2)):
        c = Catalog.from_frame(frame(order))
        assert int(c.ids[c.ground("Cax")]) == first       # Cab and Cat both at 1: the earlier row
    dup = Catalog.from_frame(frame([(1, "Heat!", ["A"]), (0, "heat", ["A"])]))
    assert int(dup.ids[dup.ground("HEAT")]) == 1           # one normalised form: the earlier row wins


SPEC_TIES = [(2, "Heat (1995)", ["A"]), (1, "HEAT (1995)", ["A"]),
             (4, "Fargo (1996)", ["B"]), (3, "Fargo (1997)", ["B"])]


@pytest.mark.parametrize("target", [4, 2])
def test_spec_tie_case_grounds_to_the_earlier_rows(target):
    c = Catalog.from_frame(frame(SPEC_TIES))
    res = score(c, "1. heat (1995)\n2. Fargo (199)", 5, Intent("I0"), target_id=target)
    assert res.item_ids == [2, 4]                          # normalised tie, then edit-distance tie
    assert res.items == ["Heat (1995)", "Fargo (1996)"]
    assert res.metrics["HR"] == 1


def test_catalog_rejects_bad_tables():
    with pytest.raises(CtrlrecError, match="appears twice"):
        Catalog.from_frame(frame([(1, "a", []), (1, "b", [])]))
    with pytest.raises(CtrlrecError, match="lacks columns"):
        Catalog.from_frame(frame(ROWS).drop(columns=["categories"]))
    c = Catalog.from_frame(frame())
    with pytest.raises(CtrlrecError, match="'Noir' is unknown"):
        c.category("Noir")


_ALPHA = st.sampled_from(list("abcde (19)"))


@settings(max_examples=150, deadline=None)
@given(st.lists(st.text(_ALPHA, min_size=0, max_size=16), min_size=1, max_size=40),
       st.lists(st.text(_ALPHA, min_size=0, max_size=18), min_size=1, max_size=10))
def test_fuzzy_index_equals_a_full_scan(titles, queries):
    index = FuzzyIndex(titles)
    for q in queries + [t[1:] + "x" for t in titles[:5]]:
        assert index.nearest(q) == nearest_by_scan(titles, q)


def test_fuzzy_filter_path_is_complete_on_edited_titles():
    import random

    rng = random.Random(7)
    letters = "abcdefghijklmnop "
    titles = ["".join(rng.choice(letters) for _ in range(rng.randint(6, 24)))
              + f" ({rng.randint(1990, 1999)})" for _ in range(400)]
    index = FuzzyIndex(titles)
    filtered = 0
    for _ in range(1500):
        s = list(rng.choice(titles))
        for _ in range(rng.randint(0, 5)):
            i = rng.randrange(len(s) + 1)
            op = rng.random()
            if op < 0.33 and i < len(s):
                s[i] = rng.choice(letters)
            elif op < 0.66 and i < len(s):
                del s[i]
            else:
                s.insert(i, rng.choice(letters))
        q = "".join(s)
        lo, hi = len(q) - 3, len(q) + 3
        window = sum(lo <= len(t) <= hi for t in titles)
        filtered += len(index.candidates(q)) < window
        assert index.nearest(q) == nearest_by_scan(titles, q), q
    assert filtered > 1000  # the q-gram filter, not the length window, answered most of them
