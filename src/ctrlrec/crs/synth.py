"""Synthetic dialogues from the simulator, and SFT samples from dialogues.

The guide recommender behind synthetic dialogues (docs/crs.md): each turn lists k items; with
probability `hit_rate` one of them is a held-out item of the user (at a random position); the others
are the ranker's top items on the items mentioned so far, kept to the stated likes and away from the
stated dislikes (unfiltered when too few remain), never an item mentioned or recommended before.
Each turn also carries `alternatives` counterfactual lists (random unseen catalog items) with the
reactions the simulator would have given, so the reward model sees contrasting actions per state.
"""

from __future__ import annotations

import numpy as np
from tqdm.auto import tqdm

from ctrlrec.crs import state
from ctrlrec.crs.baseline import TopK
from ctrlrec.crs.dialogue import Dialogue
from ctrlrec.crs.simulator import UserSimulator


def guide_list(sim: UserSimulator, ep, cands: list[int], rng: np.random.Generator,
               hit_rate: float) -> list[int]:
    k = sim.cfg.k
    likes, dislikes = set(ep.stated_likes), set(ep.stated_dislikes)

    def fits(i: int) -> bool:
        cats = sim.item_cats[i]
        return (not likes or bool(cats & likes)) and not cats & dislikes

    good = [i for i in cands if fits(i)]
    items = (good + [i for i in cands if i not in good])[:k]
    rest = ep.remaining()
    if rest and rng.random() < hit_rate:
        hit = int(rng.choice(rest))
        if hit not in items:
            items = items[: k - 1]
            items.insert(int(rng.integers(len(items) + 1)), hit)
    return items


def simulate(sim: UserSimulator, ranker: TopK, n: int, part: str = "train", hit_rate: float = 0.5,
             alternatives: int = 1, batch: int = 64, progress: bool = True) -> list[Dialogue]:
    """`n` synthetic dialogues (episodes `0..n-1` of the part's users) with the guide recommender."""
    out: list[Dialogue] = []
    bar = tqdm(total=n, desc="simulate", unit="dialogue", disable=not progress)
    k = sim.cfg.k
    for start in range(0, n, batch):
        eps = sim.episodes(min(batch, n - start), part, offset=start)
        while True:
            live = [e for e in eps if not e.done]
            if not live:
                break
            hists = [list(dict.fromkeys(e.mentioned + e.accepted)) for e in live]
            excl = [[i for t in e.turns for i in t.items] + e.rejected for e in live]
            cands = ranker.candidates(hists, excl, 20 * k)
            for e, c in zip(live, cands, strict=True):
                rng = np.random.default_rng([sim.seed, e.user, e.index, e.n_rec, 99])
                items = guide_list(sim, e, c, rng, hit_rate)
                alts = []
                for a in range(alternatives):
                    seen = set(e.history) | set(e.mentioned)
                    pool = [i for i in rng.permutation(len(sim.titles)).tolist() if i not in seen][:k]
                    alts.append(e.peek(state.render([sim.titles[i] for i in pool]), pool, a))
                e.react(state.render([sim.titles[i] for i in items]), items)
                e.turns[-2].alternatives = alts
        for e in eps:
            out.append(Dialogue(f"sim-{sim.seed}-{e.index}", e.turns, e.user, e.meta()))
        bar.update(len(eps))
    bar.close()
    return out


def sft_samples(dialogues: list[Dialogue], k: int) -> list[dict]:
    """One SFT sample per dialogue with at least one recommender turn: the conversation through its
    last recommender turn (the loss falls on every recommender turn, `ctrlrec.llm.chat.tokenise`)."""
    out = []
    for d in dialogues:
        last = max((i for i, _ in d.recommender_turns()), default=None)
        if last is None:
            continue
        out.append({"id": d.id, "messages": state.messages(d.turns[: last + 1], k)})
    return out
