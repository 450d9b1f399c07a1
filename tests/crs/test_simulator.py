"""The simulator: same seed, same dialogue; the reaction rules of its docstring, noise off."""

from __future__ import annotations

import numpy as np
import pytest

from ctrlrec.crs.simulator import SimConfig, UserSimulator


def _quiet(**kw):
    return SimConfig(noise=0.0, sentiment_noise=0.0, dwell_spread=0.0, **kw)


def _play(sim, n=6):
    """Episodes answered by a fixed rule (the first k unseen item ids), as comparable JSON."""
    eps = sim.episodes(n, "train")
    while any(not e.done for e in eps):
        for e in (e for e in eps if not e.done):
            seen = set(e.history) | {i for t in e.turns for i in t.items}
            items = [i for i in range(len(sim.titles)) if i not in seen][: sim.cfg.k - 1] + e.heldout[:1]
            e.react("\n".join(f"{j + 1}. {sim.titles[i]}" for j, i in enumerate(items)), items)
    return [[t.to_json() for t in e.turns] for e in eps]


def _user(sim) -> int:
    """A user whose held-out items leave room for a dislike (5 genres in the tiny data)."""
    return next(u for u in sim.users("all") if sim.start(u).dislikes)


def test_same_seed_same_dialogues_other_seed_differs(tiny_ds):
    a = _play(UserSimulator(tiny_ds, SimConfig(noise=0.3), seed=5))
    b = _play(UserSimulator(tiny_ds, SimConfig(noise=0.3), seed=5))
    c = _play(UserSimulator(tiny_ds, SimConfig(noise=0.3), seed=6))
    assert a == b
    assert a != c


def test_train_and_eval_users_are_disjoint(tiny_ds):
    sim = UserSimulator(tiny_ds, SimConfig(eval_every=4))
    train, ev = set(sim.users("train")), set(sim.users("eval"))
    assert ev and train and not train & ev and all(u % 4 == 0 for u in ev)


def test_preferences_and_opening_turn(tiny_ds):
    sim = UserSimulator(tiny_ds, _quiet(n_likes=2, n_dislikes=1))
    u = _user(sim)
    ep = sim.start(u)
    seq = [int(i) for i in tiny_ds.sequences[u]]
    assert ep.heldout == seq[-5:] and ep.history == seq[:-5]
    assert ep.mentioned == ep.history[-3:] and ep.turns[0].items == ep.mentioned
    assert all(sim.titles[i] in ep.turns[0].text for i in ep.mentioned)
    assert ep.stated == [("like", ep.likes[0])] and ep.likes[0] in ep.turns[0].text
    future = set().union(*(sim.item_cats[i] for i in ep.heldout))
    assert ep.dislikes and not set(ep.dislikes) & (set(ep.likes) | future)


def test_reaction_rules(tiny_ds):
    sim = UserSimulator(tiny_ds, _quiet(leave_prob=1.0, max_turns=4))
    ep = sim.start(_user(sim))
    hit = ep.heldout[0]
    fb = ep.react("x", [-1, hit])
    assert fb.accepted and fb.accepted_items == [hit] and fb.sentiment == 0.8 and fb.dwell == 90.0
    assert fb.went_on and not ep.done and ep.first_success == 1
    assert ep.turns[-1].role == "user" and sim.titles[hit] in ep.turns[-1].text
    assert len(ep.stated) == 2  # the reply states one more preference
    like, dislike = set(ep.likes), set(ep.dislikes)
    seen = set(ep.history) | set(ep.heldout)
    mild = next(i for i, c in enumerate(sim.item_cats) if c & like and not c & dislike and i not in seen)
    fb = ep.react("x", [mild])
    assert not fb.accepted and fb.sentiment == 0.2 and fb.dwell == 30.0 and fb.went_on
    bad = next(i for i, c in enumerate(sim.item_cats) if c & dislike and i not in seen)
    fb = ep.react("x", [bad, hit])  # hit was accepted already: no longer a hit
    assert not fb.accepted and fb.sentiment == -0.6 and fb.dwell == 6.0
    assert not fb.went_on and ep.done and ep.left  # leave_prob = 1
    assert set(fb.rejected_items) == {bad, hit}
    with pytest.raises(Exception, match="has ended"):
        ep.react("x", [bad])


def test_repeating_a_rejected_item_costs_sentiment_and_noise_changes_classes(tiny_ds):
    sim = UserSimulator(tiny_ds, _quiet(leave_prob=0.0))
    u = _user(sim)
    ep = sim.start(u)
    bad = next(i for i, c in enumerate(sim.item_cats) if c & set(ep.dislikes) and i not in ep.heldout)
    assert ep.react("x", [bad]).sentiment == -0.6
    assert ep.react("x", [bad]).sentiment == pytest.approx(-0.8)
    noisy = UserSimulator(tiny_ds, SimConfig(noise=1.0, sentiment_noise=0.0, dwell_spread=0.0), seed=1)
    kinds = set()
    for j in range(20):
        e = noisy.start(u, j)
        kinds.add(e.react("x", [bad]).sentiment)
    assert len(kinds) > 1  # with noise 1 the disliked item is sometimes accepted or liked


def test_peek_leaves_the_episode_alone(tiny_ds):
    sim = UserSimulator(tiny_ds, SimConfig())
    ep = sim.start(3)
    state = ep.rng.bit_generator.state
    alt = ep.peek("1. x", [ep.heldout[0]], 0)
    assert alt.feedback.accepted and len(ep.turns) == 1 and ep.rng.bit_generator.state == state
    assert np.isfinite(alt.feedback.dwell)
