"""TEMPORARY I0-only instruction builder, to be replaced by `ctrlrec.tasks` (teacher labels, all tasks).

It exists so the SFT stage can be trained and measured before the tasks stage lands. Samples have the
shape `ctrlrec.tasks` will write (messages, task, intent, k, history, target, labels).
- train: per user, `per_user` random target positions in the training part of the sequence (leave-two-
  out); history = up to 10 items before the target; label list = target first, then the items that most
  often follow the history's last 3 items in the training data (a crude co-occurrence "teacher", with
  popularity as tie-break), excluding history and target; k = 10.
- valid: each evaluated user's validation item, history = the 10 training items before it.
- test:  each evaluated user's last item, history = the 10 items before it (the fixed test set).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import orjson

from ctrlrec.atomic import atomic_file

SYSTEM = "You are a movie recommender. Answer with a numbered list of titles, one per line, and nothing else."
HISTORY_LEN = 10
K = 10


def user_prompt(history_titles: list[str], k: int) -> str:
    hist = "\n".join(f"- {t}" for t in history_titles)
    return f"I watched these movies, oldest first:\n{hist}\nRecommend {k} movies I may watch next."


def _sample(titles, history, target, labels, k, with_answer=True) -> dict:
    msgs = [
        {"role": "system", "content": SYSTEM},
        {"role": "user", "content": user_prompt([titles[i] for i in history], k)},
    ]
    if with_answer:
        msgs.append(
            {"role": "assistant", "content": "\n".join(f"{n + 1}. {titles[i]}" for n, i in enumerate(labels))}
        )
    return {
        "messages": msgs,
        "task": "I0",
        "intent": {"kind": "I0", "category": None, "proportion": None},
        "k": k,
        "history": [int(i) for i in history],
        "target": None if target is None else int(target),
        "labels": [int(i) for i in labels],
    }


def _follow_matrix(train: list[np.ndarray], n_items: int, window: int = 3) -> np.ndarray:
    """counts[a, b]: how often b follows a within `window` steps in the training sequences."""
    counts = np.zeros((n_items, n_items), dtype=np.float32)
    for seq in train:
        for d in range(1, window + 1):
            if len(seq) > d:
                np.add.at(counts, (seq[:-d], seq[d:]), 1.0)
    return counts


def labeler(ds):
    """`fill(history, target, k)`: target first, then the crude co-occurrence teacher's top items."""
    split = ds.split
    follow = _follow_matrix(split.train, ds.n_items)
    pop = np.bincount(np.concatenate(split.train), minlength=ds.n_items).astype(np.float32)
    prior = pop / pop.max() * 1e-3  # tie-break only

    def fill(history, target, k) -> list[int]:
        score = follow[history[-3:]].sum(axis=0) + prior
        score[history] = -np.inf
        if target is not None:
            score[target] = -np.inf
        top = np.argpartition(-score, k)[:k]
        top = top[np.argsort(-score[top], kind="stable")]
        return ([int(target)] if target is not None else []) + [
            int(i) for i in top[: k - (target is not None)]
        ]

    return fill


def teacher_metrics(ds, k: int = K) -> dict:
    """HR@k / NDCG@k of the co-occurrence teacher on the fixed test set (history = 10 items before)."""
    fill = labeler(ds)
    hr = ndcg = 0.0
    for j, u in enumerate(ds.split.eval_users):
        top = fill(ds.sequences[u][:-1][-HISTORY_LEN:], None, k)
        t = int(ds.split.test_target[j])
        if t in top:
            hr += 1
            ndcg += 1 / np.log2(top.index(t) + 2)
    n = len(ds.split.eval_users)
    return {"HR": hr / n, "NDCG": ndcg / n, "n": n}


def build(ds, out_dir: str | Path, per_user: int = 2, seed: int = 0) -> dict[str, Path]:
    """Write train/valid/test JSONL for dataset `ds` under `out_dir`; return the three paths."""
    rng = np.random.default_rng(seed)
    titles = ds.titles()
    split = ds.split
    fill = labeler(ds)

    out_dir = Path(out_dir)
    files = {}
    rows: dict[str, list[dict]] = {"train": [], "valid": [], "test": []}
    for seq in split.train:
        if len(seq) < 2:
            continue
        for p in rng.choice(np.arange(1, len(seq)), size=min(per_user, len(seq) - 1), replace=False):
            hist = seq[max(0, p - HISTORY_LEN) : p]
            rows["train"].append(_sample(titles, hist, seq[p], fill(hist, seq[p], K), K))
    seqs = ds.sequences
    for j, u in enumerate(split.eval_users):
        vhist = split.train[u][-HISTORY_LEN:]
        rows["valid"].append(_sample(titles, vhist, split.valid_target[j], [], K, with_answer=False))
        thist = seqs[u][:-1][-HISTORY_LEN:]
        rows["test"].append(_sample(titles, thist, split.test_target[j], [], K, with_answer=False))
    rng.shuffle(rows["train"])
    # Item ids are only meaningful for this exact prepare of the dataset: record which one it was.
    digest = hashlib.sha256("\n".join(titles).encode()).hexdigest()[:16]
    with atomic_file(out_dir / "meta.json") as fh:
        fh.write(
            orjson.dumps(
                {
                    "dataset": ds.name,
                    "n_items": ds.n_items,
                    "titles_sha256": digest,
                    "per_user": per_user,
                    "seed": seed,
                    "builder": "interim",
                }
            ).decode()
        )
    for name, rs in rows.items():
        files[name] = out_dir / f"{name}.jsonl"
        with atomic_file(files[name], "wb", encoding=None) as fh:
            for r in rs:
                fh.write(orjson.dumps(r) + b"\n")
    return files
