"""Every formula of spec §3-§5 against values computed by hand on the tiny catalog of conftest.

Catalog genres: Heat(0) Action/Crime, Fargo(1) Crime/Drama, Scream(2) Horror, Alien(3) Horror/Sci-Fi,
Toy Story(4) Comedy, Casino(5) Crime/Drama, Jaws(6) Horror/Thriller, Babe(7) Comedy, Clueless(8)
Comedy, Halloween(9) Horror. n = 10, so an unranked item has r = 10.
"""

from math import log2

import numpy as np
import pytest

from ctrlrec.scoring import Intent, score
from ctrlrec.scoring.rewards import I2GE, control_branches
from tests.scoring.conftest import ID, numbered

TEACHER = [ID["Heat (1995)"], ID["Fargo (1996)"], ID["Scream (1996)"], ID["Alien (1979)"],
           ID["Jaws (1975)"]]  # ranks 0..4; everything else r = 10
LIST1 = ["Scream (1996)", "Alien (1979)", "Jaws (1975)", "Heat (1995)", "Fargo (1996)"]


def run(cat, titles, k, intent, history=(), target=None, teacher=TEACHER):
    text = numbered(*titles) if isinstance(titles, list) else titles
    return score(cat, text, k, intent, [ID[h] for h in history],
                 None if target is None else ID[target], teacher)


def approx(xs):
    return pytest.approx(list(xs), abs=1e-12)


# -- S_p (Eq. 1), S*_p (Eq. 3) -------------------------------------------------------------------

def test_preference_scores_and_discount(cat):
    r = run(cat, LIST1, 5, "I0", target="Heat (1995)")
    s = [1 / log2(2 + 3), 1 / log2(3 + 3), 1 / log2(4 + 3), 1.0, 1 / log2(1 + 3)]
    assert r.preference.tolist() == approx(s)
    assert r.control.tolist() == approx(s)  # I0: S^ctl = S
    assert r.item_rewards.tolist() == approx(s)  # and R_item = S
    star = [s[p] / log2(p + 2) for p in range(5)]
    assert r.list_control == pytest.approx(sum(star))
    assert r.list_reward == pytest.approx(sum(star))  # 0.5*sum + 0.5*sum


def test_unranked_item_gets_catalog_size(cat):
    r = run(cat, ["Babe (1995)"], 1, "I0", teacher=None)
    assert r.preference[0] == pytest.approx(1 / log2(10 + 3))
    # the teacher's first rank counts when it repeats an item
    r = run(cat, ["Babe (1995)"], 1, "I0", teacher=[ID["Heat (1995)"], 7, None, 7])
    assert r.preference[0] == pytest.approx(1 / log2(1 + 3))


def test_rank_array_is_accepted(cat):
    ranks = np.arange(10)[::-1].copy()  # item 9 is best
    r = run(cat, ["Halloween (1978)", "Heat (1995)"], 2, "I0", teacher=ranks)
    assert r.preference.tolist() == approx([1 / log2(0 + 3), 1 / log2(9 + 3)])


# -- Algorithm 1, every branch of every kind ------------------------------------------------------

def test_i1_and_i3_item_control(cat):
    titles = ["Scream (1996)", "Heat (1995)"]
    assert run(cat, titles, 2, Intent("I1+", "Horror")).control.tolist() == [1.0, 0.0]
    assert run(cat, titles, 2, Intent("I3", "Horror")).control.tolist() == [1.0, 0.0]
    assert run(cat, titles, 2, Intent("I1-", "Horror")).control.tolist() == [0.0, 1.0]


def test_i2_at_most_branches(cat):
    # k=5, m=0.4: k*m = 2, k - k*m = 3
    r = run(cat, LIST1, 5, Intent("I2<=", "Horror", 0.4))
    # Scream in=1<=2: 0.5 | Alien in=2<=2: 0.5 (the `<=` fix; the paper's `<` gives 0) |
    # Jaws in=3: 0.0 | Heat out=1, not in C: 1.0 | Fargo out=2: 1.0
    assert r.control.tolist() == [0.5, 0.5, 0.0, 1.0, 1.0]
    r = run(cat, ["Heat (1995)", "Fargo (1996)", "Toy Story (1995)", "Casino (1995)", "Babe (1995)"],
            5, Intent("I2<=", "Horror", 0.4))
    # out = 1, 2, 3 (3 is not > 3): 1.0 | out = 4 > 3: 0.5 | out = 5: 0.5
    assert r.control.tolist() == [1.0, 1.0, 1.0, 0.5, 0.5]


def test_i2_at_least_branches(cat):
    five_out = ["Heat (1995)", "Fargo (1996)", "Toy Story (1995)", "Casino (1995)", "Scream (1996)"]
    r = run(cat, five_out, 5, Intent("I2>=", "Horror", 0.4))
    # out=1,2: 0.5 | out=3 <= 3: 0.5 (the `<=` fix) | out=4: 0.0 | Scream in C: 1.0
    assert r.control.tolist() == [0.5, 0.5, 0.5, 0.0, 1.0]


def test_i2_at_least_count_above_k_branch_directly():
    # `Count_in > k` cannot happen end to end (legal items sit at p < k); the branch still exists.
    # k=5, k*m = 2/1: in=6 > 5: 0.5 | in C: 1.0 | out=3 <= 3: 0.5 | out=4: 0.0
    n = 4
    v = control_branches(np.full(n, I2GE), np.ones(n, bool), np.array([True, True, False, False]),
                         np.array([6, 3, 2, 2]), np.array([0, 0, 3, 4]), np.full(n, 5), np.full(n, 2),
                         np.ones(n, int), np.zeros(n))
    assert v.tolist() == [0.5, 1.0, 0.5, 0.0]


def test_i2_about_branches(cat):
    r = run(cat, ["Heat (1995)", "Scream (1996)", "Alien (1979)", "Jaws (1975)", "Fargo (1996)"], 5,
            Intent("I2~", "Horror", 0.4))
    # Heat: out, in=0 < 2, out=1 <= 3: 0.5 | Scream in=1 <= 2: 1 | Alien in=2: 1 | Jaws in=3 > 2: 0
    # Fargo: out, in=3 >= 2: 1
    assert r.control.tolist() == [0.5, 1.0, 1.0, 0.0, 1.0]
    r = run(cat, ["Heat (1995)", "Fargo (1996)", "Toy Story (1995)", "Casino (1995)", "Babe (1995)"],
            5, Intent("I2~", "Horror", 0.4))
    # out = 1, 2, 3 <= 3: 0.5 | out = 4, 5 with in=0 < 2: 0.0
    assert r.control.tolist() == [0.5, 0.5, 0.5, 0.0, 0.0]


def test_illegal_items_score_minus_one_and_do_not_count(cat):
    # k=4, m=0.5: k*m = 2, k - k*m = 2. Fargo is in the history: illegal, out stays 1.
    r = run(cat, ["Heat (1995)", "Fargo (1996)", "Casino (1995)"], 4, Intent("I2>=", "Horror", 0.5),
            history=["Fargo (1996)"])
    assert r.control.tolist() == [0.5, -1.0, 0.5]  # had Fargo counted, Casino would be out=3: 0.0
    assert r.preference[1] == -1.0
    assert r.item_rewards.tolist() == approx([0.5 / log2(0 + 3) + 0.25, -1.0, 0.5 / log2(10 + 3) + 0.25])


# -- R_item (Eq. 2), Score^ctl_list (Eq. 4), R_list (Eq. 5) ----------------------------------------

def _star(r):
    return sum(s / log2(p + 2) for p, s in enumerate(r.preference))


@pytest.mark.parametrize("intent, ctl", [
    (Intent("I1+", "Horror"), 1 / log2(5 - 3 + 2)),       # Count_in = 3
    (Intent("I3", "Horror"), 1 / log2(5 - 3 + 2)),
    (Intent("I1-", "Horror"), 1 / log2(5 - 2 + 2)),       # Count_out = 2
    (Intent("I2<=", "Horror", 0.4), 1 / log2(1 + 2)),      # max(3 - 2, 0)
    (Intent("I2<=", "Horror", 0.3), 1 / log2(1.5 + 2)),    # k*m = 1.5
    (Intent("I2>=", "Horror", 0.4), 1 / log2(0 + 2)),      # max(2 - 3, 0)
    (Intent("I2>=", "Horror", 1.0), 1 / log2(2 + 2)),      # max(5 - 3, 0)
    (Intent("I2~", "Horror", 0.4), 1 / log2(1 + 2)),       # |3 - 2|
    (Intent("I2~", "Horror", 0.2), 1 / log2(2 + 2)),       # |3 - 1|
])
def test_list_level_control_and_reward(cat, intent, ctl):
    r = run(cat, LIST1, 5, intent, target="Heat (1995)")
    assert r.list_control == pytest.approx(ctl)
    assert r.list_reward == pytest.approx(0.5 * _star(r) + 0.5 * ctl)
    assert r.item_rewards.tolist() == approx(0.5 * r.preference + 0.5 * r.control)


def test_list1_star_sum_by_hand(cat):
    r = run(cat, LIST1, 5, Intent("I2<=", "Horror", 0.4), target="Heat (1995)")
    star = (1 / log2(5) + 1 / log2(6) / log2(3) + 1 / log2(7) / 2 + 1 / log2(5) + 0.5 / log2(6))
    assert r.list_reward == pytest.approx(0.5 * star + 0.5 / log2(3))
    assert r.item_rewards.tolist() == approx(
        [0.5 / log2(5) + 0.25, 0.5 / log2(6) + 0.25, 0.5 / log2(7), 1.0, 0.75])


def test_k_times_m_is_exact(cat):
    # 10 * 0.3 is 3.0000000000000004 in floats; the spec wants exactly 3.
    titles = ["Scream (1996)", "Alien (1979)", "Jaws (1975)", "Heat (1995)", "Fargo (1996)",
              "Toy Story (1995)", "Casino (1995)", "Babe (1995)", "Clueless (1995)"]
    r = run(cat, titles, 10, Intent("I2~", "Horror", 0.3))
    assert r.list_control == 1.0 and r.metrics["CPA"] == 1
    # in = 3 <= k*m for Jaws; then the items out of C find in = 3 >= k*m: 1.0 (floats: 0.5)
    assert r.control.tolist() == [1.0] * 9
    r = run(cat, titles, 10, Intent("I2>=", "Horror", 0.3))
    assert r.metrics["CPA"] == 1 and r.list_control == 1.0  # floats: CPA 0, ctl < 1
    assert r.control.tolist() == [1.0] * 3 + [0.5] * 6  # out = 1..6 <= 7


# -- metrics (§4) -----------------------------------------------------------------------------------

def test_metrics_by_hand(cat):
    r = run(cat, LIST1, 5, Intent("I2<=", "Horror", 0.4), target="Heat (1995)")
    assert r.metrics == {"HR": 1, "NDCG": pytest.approx(1 / log2(3 + 2)), "TCP": 0.6, "CPA": 0,
                         "CorrectCount": 1, "RepeatItem": 0.0, "NonExist": 0.0, "InHistory": 0.0}
    assert run(cat, LIST1, 5, Intent("I2>=", "Horror", 0.4)).metrics["CPA"] == 1
    assert run(cat, LIST1, 5, Intent("I2~", "Horror", 0.4)).metrics["CPA"] == 1   # |3-2| <= 1
    assert run(cat, LIST1, 5, Intent("I2~", "Horror", 0.2)).metrics["CPA"] == 0   # |3-1| > 1
    m = run(cat, LIST1, 5, "I0", target="Babe (1995)").metrics
    assert m["HR"] == 0 and m["NDCG"] == 0.0 and m["TCP"] is None and m["CPA"] is None
    m = run(cat, LIST1, 5, Intent("I1-", "Horror")).metrics
    assert m["TCP"] == 0.6 and m["CPA"] is None and m["HR"] is None  # no target: HR null


def test_empty_output(cat):
    r = run(cat, "", 5, Intent("I2<=", "Horror", 0.4), target="Heat (1995)")
    assert r.items == [] and r.illegal.tolist() == [] and r.item_rewards.tolist() == []
    assert r.metrics == {"HR": 0, "NDCG": 0.0, "TCP": 0.0, "CPA": 1, "CorrectCount": 0,
                         "RepeatItem": 0.0, "NonExist": 0.0, "InHistory": 0.0}
    assert r.list_reward == pytest.approx(0.5 * 0 + 0.5 * 1.0)  # max(0 - 2, 0) = 0
    r = run(cat, "\n  \n", 3, Intent("I1+", "Horror"))
    assert r.list_reward == pytest.approx(0.5 / log2(3 + 2))


def test_more_lines_than_k(cat):
    r = run(cat, ["Heat (1995)", "Fargo (1996)", "Scream (1996)", "Nope"], 2, "I0", target="Scream (1996)")
    assert r.illegal.tolist() == [False, False, True, True]
    assert r.preference.tolist() == approx([1 / log2(3), 1 / log2(4), -1, -1])
    # every line counts in sum S*, positions >= k add -1 each
    assert r.list_reward == pytest.approx(1 / log2(3) + 1 / log2(4) / log2(3) - 2)
    m = r.metrics
    assert m["HR"] == 0 and m["CorrectCount"] == 0 and m["NonExist"] == 0.0  # only the first k count


def test_repeats_history_nonexistent_are_independent(cat):
    titles = ["Scream (1996)", "Scream (1996)", "Zzzzzzzzzz", "Zzzzzzzzzz", "Heat (1995)", "Heat (1995)"]
    r = run(cat, titles, 6, Intent("I1+", "Horror"), history=["Scream (1996)"], target="Heat (1995)")
    assert r.repeat.tolist() == [False, True, False, False, False, True]
    assert r.in_history.tolist() == [True, True, False, False, False, False]
    assert r.nonexistent.tolist() == [False, False, True, True, False, False]
    assert r.illegal.tolist() == [True, True, True, True, False, True]
    m = r.metrics
    assert m["RepeatItem"] == pytest.approx(2 / 6) and m["InHistory"] == pytest.approx(2 / 6)
    assert m["NonExist"] == pytest.approx(2 / 6)
    assert m["TCP"] == pytest.approx(1 / 6)  # Scream counted once although in history
    assert m["HR"] == 1 and m["NDCG"] == pytest.approx(1 / log2(4 + 2))


def test_target_in_history_is_no_hit(cat):
    r = run(cat, ["Heat (1995)"], 1, "I0", history=["Heat (1995)"], target="Heat (1995)")
    assert r.metrics["HR"] == 0 and r.preference.tolist() == [-1.0]


def test_combined_intents_average_the_parts(cat):
    both = [Intent("I1+", "Crime"), Intent("I1-", "Horror")]
    r = run(cat, ["Fargo (1996)", "Alien (1979)", "Heat (1995)"], 3, both)
    # I1+ Crime: 1, 0, 1; I1- Horror: 1, 0, 1
    assert r.control.tolist() == [1.0, 0.0, 1.0]
    assert r.metrics["TCP"] is None and r.metrics["CPA"] is None
    assert r.metrics["parts"] == [{"TCP": pytest.approx(2 / 3), "CPA": None},
                                  {"TCP": pytest.approx(1 / 3), "CPA": None}]
    assert r.list_control == pytest.approx((1 / log2(3 - 2 + 2) + 1 / log2(3 - 2 + 2)) / 2)
    mixed = [Intent("I1+", "Horror"), Intent("I2<=", "Horror", 0.5)]
    r = run(cat, ["Scream (1996)", "Heat (1995)"], 2, mixed)
    # I1+: 1, 0 | I2<= k*m=1: Scream in=1 <= 1: 0.5, Heat out: 1.0
    assert r.control.tolist() == [0.75, 0.5]
    assert r.metrics["parts"][1] == {"TCP": 0.5, "CPA": 1}
