"""The seed's three axes on the same seeded episodes (docs/crs.md, "Evaluation").

Every recommender meets the same simulated users (evaluation users, episode seeds 0..n-1); the
simulator's reactions differ only where the recommendations differ.

Accuracy, per turn t (over the episodes still live at t) and by dialogue end:
  HR@k   = 1 if some recommended item is a held-out item not accepted before turn t;
  NDCG@k = sum over positions j of hit_j / log2(j + 2), divided by the ideal DCG of
           min(k, remaining held-out items); by the end: HR = a hit in any turn, NDCG = its best turn.
Coherence (means over recommended lines / items):
  exist = share of lines naming a catalog item; agree = share of those items with a liked category
  stated so far (any item when none is stated yet) and no disliked one stated so far;
  repeat_rejected = share of items the user had rejected before; repeat_shown = share of items
  recommended in an earlier turn of the dialogue; mentioned = share of items the user named as seen.
Satisfaction: accept rate (over recommendation turns), mean sentiment, success = share of dialogues
with an accept, turns to success (mean over successful dialogues), leave rate, turns to leave, turns.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from ctrlrec.atomic import atomic_file, write_json
from ctrlrec.crs import state
from ctrlrec.crs.baseline import TopK, baseline_lists
from ctrlrec.crs.dialogue import Dialogue


class ChatRecommender:
    """Any chat model (SFT or RL run, model folder) answering the conversation; greedy decoding,
    mode "free" (the model alone) or "catalog" (only catalog titles, none mentioned or shown before)."""

    def __init__(self, model, tok, catalog, k: int, mode: str = "free", max_new_tokens: int = 128,
                 batch_size: int = 16, name: str = "model"):
        self.model, self.tok, self.catalog, self.k, self.mode = model, tok, catalog, k, mode
        self.max_new_tokens, self.batch_size, self.name = max_new_tokens, batch_size, name
        self.decoder = None
        if mode != "free":
            from ctrlrec.llm.decoding import CatalogDecoder

            self.decoder = CatalogDecoder(tok, catalog, cache=True)

    def __call__(self, episodes) -> list[str]:
        from ctrlrec.llm.generate import GenerationConfig, generate

        prompts = [e.messages() for e in episodes]
        cfg = GenerationConfig(max_new_tokens=self.max_new_tokens, batch_size=self.batch_size)
        if self.decoder is None:
            return generate(self.model, self.tok, prompts, cfg, progress=False)
        from ctrlrec.llm.decoding import RowSpec, decode

        specs = [RowSpec(self.k, self.mode, tuple(dict.fromkeys(
            e.mentioned + [i for t in e.turns if t.role == "recommender" for i in t.items])))
            for e in episodes]
        return decode(self.model, self.tok, self.decoder, prompts, specs, cfg)


class BaselineRecommender:
    """SASRec (or popularity) top-k on the items mentioned so far, as numbered titles."""

    def __init__(self, topk: TopK, titles: list[str], k: int):
        self.topk, self.titles, self.k, self.name = topk, titles, k, f"teacher:{topk.name}"

    def __call__(self, episodes) -> list[str]:
        rows = baseline_lists(self.topk, episodes, self.k)
        return [state.render([self.titles[i] for i in row]) for row in rows]


def run_episodes(sim, recommender, n: int, part: str = "eval", batch: int = 32,
                 progress: bool = True) -> tuple[list, list[list[dict]]]:
    """(episodes, per-episode turn records) of `n` seeded episodes with `recommender`."""
    eps_all, recs_all = [], []
    bar = tqdm(total=n, desc=f"episodes {getattr(recommender, 'name', '')}", unit="dialogue",
               disable=not progress)
    for s in range(0, n, batch):
        eps = sim.episodes(min(batch, n - s), part, offset=s)
        recs: list[list[dict]] = [[] for _ in eps]
        while True:
            live = [j for j, e in enumerate(eps) if not e.done]
            if not live:
                break
            texts = recommender([eps[j] for j in live])
            for j, text in zip(live, texts, strict=True):
                e = eps[j]
                ids = state.ground(sim_catalog(sim), text)
                shown = {i for t in e.turns if t.role == "recommender" for i in t.items}
                rec = {"ids": ids, "stated": list(e.stated), "rejected": set(e.rejected), "shown": shown,
                       "remaining": e.remaining(), "mentioned": set(e.mentioned)}
                rec["feedback"] = e.react(text.strip(), ids)
                recs[j].append(rec)
        eps_all += eps
        recs_all += recs
        bar.update(len(eps))
    bar.close()
    return eps_all, recs_all


def sim_catalog(sim):
    if not hasattr(sim, "_catalog"):
        from ctrlrec.scoring import Catalog

        sim._catalog = Catalog.from_frame(sim.ds.catalog)
    return sim._catalog


def _ndcg(ids: list[int], truth: set[int], k: int) -> float:
    if not truth:
        return 0.0
    dcg = sum(1.0 / math.log2(j + 2) for j, i in enumerate(ids[:k]) if i in truth)
    idcg = sum(1.0 / math.log2(j + 2) for j in range(min(k, len(truth))))
    return dcg / idcg


def _mean(xs) -> float | None:
    xs = [x for x in xs if x is not None]
    return float(np.mean(xs)) if xs else None


def metrics(sim, eps, recs) -> dict:
    """The summary of the three axes and the per-turn accuracy (see the module docstring)."""
    k = sim.cfg.k
    item_cats = sim.item_cats
    per_turn: dict[int, dict[str, list[float]]] = {}
    exist, agree, rep_rej, rep_shown, ment, hr_end, ndcg_end = [], [], [], [], [], [], []
    for rs in recs:
        best_h, best_n = 0.0, 0.0
        for t, r in enumerate(rs, 1):
            ids = r["ids"][:k]
            truth = set(r["remaining"])
            h = float(any(i in truth for i in ids))
            nd = _ndcg(ids, truth, k)
            best_h, best_n = max(best_h, h), max(best_n, nd)
            d = per_turn.setdefault(t, {"HR": [], "NDCG": []})
            d["HR"].append(h)
            d["NDCG"].append(nd)
            likes = {c for kind, c in r["stated"] if kind == "like"}
            dislikes = {c for kind, c in r["stated"] if kind == "dislike"}
            exist += [float(i >= 0) for i in r["ids"]]
            for i in (i for i in r["ids"] if i >= 0):
                cats = item_cats[i]
                agree.append(float((not likes or bool(cats & likes)) and not cats & dislikes))
                rep_rej.append(float(i in r["rejected"]))
                rep_shown.append(float(i in r["shown"]))
                ment.append(float(i in r["mentioned"]))
        hr_end.append(best_h)
        ndcg_end.append(best_n)
    fbs = [r["feedback"] for rs in recs for r in rs]
    succ = [e.first_success for e in eps if e.first_success is not None]
    left = [e.n_rec for e in eps if e.left]
    return {
        "n_dialogues": len(eps), "k": k,
        "accuracy": {"HR_end": _mean(hr_end), "NDCG_end": _mean(ndcg_end),
                     "HR_turn": {t: _mean(d["HR"]) for t, d in sorted(per_turn.items())},
                     "NDCG_turn": {t: _mean(d["NDCG"]) for t, d in sorted(per_turn.items())},
                     "live_turn": {t: len(d["HR"]) for t, d in sorted(per_turn.items())}},
        "coherence": {"exist": _mean(exist), "agree": _mean(agree), "repeat_rejected": _mean(rep_rej),
                      "repeat_shown": _mean(rep_shown), "mentioned": _mean(ment)},
        "satisfaction": {"accept_rate": _mean([float(f.accepted) for f in fbs]),
                         "sentiment": _mean([f.sentiment for f in fbs]),
                         "success": _mean([float(e.first_success is not None) for e in eps]),
                         "turns_to_success": _mean(succ), "leave_rate": _mean([float(e.left) for e in eps]),
                         "turns_to_leave": _mean(left), "turns": _mean([e.n_rec for e in eps])},
    }


def save(out: Path, name: str, sim, eps, summary: dict) -> None:
    """summary.json, per_turn.csv and dialogues.jsonl of one recommender under `out`."""
    out.mkdir(parents=True, exist_ok=True)
    write_json(out / "summary.json", {"recommender": name, **summary})
    acc = summary["accuracy"]
    with atomic_file(out / "per_turn.csv") as fh:
        w = csv.writer(fh, lineterminator="\n")
        w.writerow(["turn", "live", "HR", "NDCG"])
        for t in acc["HR_turn"]:
            w.writerow([t, acc["live_turn"][t], acc["HR_turn"][t], acc["NDCG_turn"][t]])
    with atomic_file(out / "dialogues.jsonl") as fh:
        for e in eps:
            d = Dialogue(f"eval-{sim.seed}-{e.index}", e.turns, e.user, {**e.meta(), "k": sim.cfg.k})
            fh.write(json.dumps(d.to_json(), ensure_ascii=False) + "\n")


def _f(v) -> str:
    return "–" if v is None else f"{v:.3f}"


def table(summaries: dict[str, dict]) -> str:
    """A Markdown table: one row per recommender, the three axes as columns."""
    cols = [("HR@k end", "accuracy", "HR_end"), ("NDCG@k end", "accuracy", "NDCG_end"),
            ("HR@k t1", "accuracy", None), ("exist", "coherence", "exist"), ("agree", "coherence", "agree"),
            ("rep. rejected", "coherence", "repeat_rejected"), ("accept", "satisfaction", "accept_rate"),
            ("sentiment", "satisfaction", "sentiment"), ("success", "satisfaction", "success"),
            ("turns to success", "satisfaction", "turns_to_success"),
            ("leave", "satisfaction", "leave_rate")]
    lines = ["| recommender | " + " | ".join(c[0] for c in cols) + " |",
             "|---|" + "---:|" * len(cols)]
    for name, s in summaries.items():
        vals = []
        for _, axis, key in cols:
            if key is None:
                turns = s["accuracy"]["HR_turn"]
                vals.append(_f(turns.get(1, turns.get("1"))))
            else:
                vals.append(_f(s[axis][key]))
        lines.append(f"| {name} | " + " | ".join(vals) + " |")
    return "\n".join(lines) + "\n"
