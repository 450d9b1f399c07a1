"""Evaluation on the three axes (same seeded episodes for every recommender) and synthetic dialogues."""

from __future__ import annotations

import pytest

from ctrlrec.crs import evaluate as ev
from ctrlrec.crs import state, synth
from ctrlrec.crs.baseline import TopK
from ctrlrec.crs.simulator import SimConfig, UserSimulator


class Oracle:
    """Recommends the user's held-out items first (the best any recommender can do)."""

    name = "oracle"

    def __init__(self, sim):
        self.sim = sim

    def __call__(self, episodes):
        out = []
        for e in episodes:
            rest = [i for i in range(len(self.sim.titles)) if i not in e.heldout]
            items = (e.remaining() + rest)[: self.sim.cfg.k]
            out.append(state.render([self.sim.titles[i] for i in items]))
        return out


def _quiet_sim(ds, **kw):
    return UserSimulator(ds, SimConfig(noise=0.0, sentiment_noise=0.0, k=3, max_turns=3, **kw), seed=0)


def test_baseline_metrics_are_seeded_and_in_range(tiny_ds):
    runs = []
    for _ in range(2):
        sim = _quiet_sim(tiny_ds)
        base = ev.BaselineRecommender(TopK(sim.ds, "popularity"), sim.titles, 3)
        eps, recs = ev.run_episodes(sim, base, 8, progress=False)
        runs.append(ev.metrics(sim, eps, recs))
    a, b = runs
    assert a == b and a["n_dialogues"] == 8
    assert a["coherence"]["exist"] == 1.0 and a["coherence"]["repeat_shown"] == 0.0  # never repeats a list
    assert a["coherence"]["mentioned"] == 0.0
    for v in list(a["satisfaction"].values()) + [a["accuracy"]["HR_end"], a["coherence"]["agree"]]:
        assert v is None or -1 <= v <= 5
    live = list(a["accuracy"]["live_turn"].values())
    assert live == sorted(live, reverse=True) and live[0] == 8


def test_oracle_scores_perfectly_and_is_saved(tiny_ds, tmp_path):
    sim = _quiet_sim(tiny_ds, stop_on_accept=True)
    eps, recs = ev.run_episodes(sim, Oracle(sim), 6, progress=False)
    m = ev.metrics(sim, eps, recs)
    assert m["accuracy"]["HR_end"] == 1.0 and m["accuracy"]["NDCG_end"] == pytest.approx(1.0)
    assert m["satisfaction"]["accept_rate"] == 1.0 and m["satisfaction"]["turns_to_success"] == 1.0
    assert m["satisfaction"]["leave_rate"] == 0.0 and m["satisfaction"]["sentiment"] == pytest.approx(0.8)
    ev.save(tmp_path / "oracle", "oracle", sim, eps, m)
    assert (tmp_path / "oracle" / "per_turn.csv").read_text().splitlines()[1].startswith("1,6,1.0,1.0")
    from ctrlrec.crs import dialogue

    assert len(dialogue.read(tmp_path / "oracle" / "dialogues.jsonl")) == 6
    table = ev.table({"oracle": m, "again": m})
    assert table.count("\n") == 4 and "| oracle | 1.000 | 1.000 | 1.000 |" in table


def test_ndcg_by_hand():
    assert ev._ndcg([5, 1, 9], {1, 9}, 3) == pytest.approx((1 / 1.5849625 + 1 / 2) / (1 + 1 / 1.5849625))
    assert ev._ndcg([5], set(), 3) == 0.0


def test_synthetic_dialogues_and_sft_samples(tiny_ds):
    from ctrlrec.llm.chat import IGNORE, tokenise
    from tests.llm.tiny import tiny_tokenizer

    sim = UserSimulator(tiny_ds, SimConfig(k=3, max_turns=3), seed=0)
    ds = synth.simulate(sim, TopK(tiny_ds, "popularity"), 5, hit_rate=1.0, alternatives=2, progress=False)
    assert len(ds) == 5 and len({d.user for d in ds}) == 5
    for d in ds:
        assert d.turns[0].role == "user"
        recs = [t for _, t in d.recommender_turns()]
        assert recs and all(t.feedback is not None and len(t.items) == 3 for t in recs)
        assert all(len(t.alternatives) == 2 and t.alternatives[0].feedback is not None for t in recs)
        assert set(recs[0].items) & set(d.meta["heldout"])  # hit_rate 1: the first list has a held-out item
    again = synth.simulate(UserSimulator(tiny_ds, SimConfig(k=3, max_turns=3), seed=0),
                           TopK(tiny_ds, "popularity"), 5, hit_rate=1.0, alternatives=2, progress=False)
    assert [d.to_json() for d in again] == [d.to_json() for d in ds]
    samples = synth.sft_samples(ds, 3)
    tok = tiny_tokenizer()
    for s in samples:
        assert s["messages"][-1]["role"] == "assistant"
        t = tokenise(tok, s["messages"])
        # one trained span per recommender turn
        lab = t.labels
        spans = sum(1 for j, x in enumerate(lab) if x != IGNORE and (j == 0 or lab[j - 1] == IGNORE))
        assert spans == sum(1 for m in s["messages"] if m["role"] == "assistant")
