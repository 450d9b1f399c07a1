"""Training samples I0–I3 (paper §2.2.1) with teacher labels (§2.2.2), drawn deterministically.

A sample is a dict: id, task, messages (system/user/assistant), intent (JSON, or a list for combined
instructions), k, history (item ids shown in the prompt), target, labels (item ids of the answer),
candidates (item ids or null), form (plain / pct / count), user.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from ctrlrec import intents as wording
from ctrlrec.scoring.intents import Intent
from ctrlrec.tasks.config import TaskConfig
from ctrlrec.tasks.context import TaskContext
from ctrlrec.tasks.labels import proportion_label, top_allowed
from ctrlrec.tasks.pool import Pool, in_pool_mask, restricted

HISTORY_TASKS = ("I0", "I1+", "I1-", "I2<=", "I2~", "I2>=")


@dataclass
class Draw:
    """One history-based sample before labelling."""

    task: str
    user: int
    prefix: np.ndarray  # everything before the target (the teacher sees its tail)
    shown: np.ndarray  # the history window shown in the prompt
    target: int
    k: int
    candidates: bool
    pool: Pool | None = field(default=None, repr=False)  # the grounded mode's candidates
    group: int | None = None  # draws of one group share their position (and so their pool)


def draw_history_samples(ctx: TaskContext, cfg: TaskConfig, task: str, n: int,
                         rng: np.random.Generator) -> list[Draw]:
    """Random target positions in the training part of random users' sequences (paper §2.2.1).

    With `target_positions = "heldout"` the target is the user's validation item, which the teacher
    never trained on (so its pools there are as good as at test time, not flattered by its training),
    and users in `exclude_users` (those of the validation cases) are never drawn."""
    sp = ctx.ds.split
    users, heldout = _users(ctx, cfg, task)
    out = []
    for _ in range(n):
        u, seq, t = _position(sp, users, heldout, rng)
        out.append(_draw(cfg, task, u, seq, t, rng))
    return out


def _users(ctx: TaskContext, cfg: TaskConfig, what: str) -> tuple[np.ndarray, bool]:
    """The rows a position is drawn from (eval rows when heldout, else users), and whether heldout."""
    sp = ctx.ds.split
    heldout = cfg.target_positions == "heldout"
    if heldout:
        skip = set(int(u) for u in cfg.exclude_users)
        users = np.asarray([j for j, u in enumerate(sp.eval_users)
                            if int(u) not in skip and len(sp.train[u]) >= 1], dtype=np.int64)
    else:
        users = np.flatnonzero(np.fromiter((len(s) >= 2 for s in sp.train), bool, len(sp.train)))
    if len(users) == 0:
        raise ValueError(f"no user has a target position for {what} samples ({cfg.target_positions})")
    return users, heldout


def _position(sp, users: np.ndarray, heldout: bool, rng: np.random.Generator):
    """(user, sequence, target index) of one random target position."""
    u = int(users[rng.integers(len(users))])
    if heldout:
        row, u = u, int(sp.eval_users[u])
        seq = np.concatenate([sp.train[u], [sp.valid_target[row]]])
        return u, seq, len(seq) - 1
    seq = sp.train[u]
    return u, seq, int(rng.integers(1, len(seq)))


def _draw(cfg: TaskConfig, task: str, u: int, seq: np.ndarray, t: int, rng: np.random.Generator,
          group: int | None = None) -> Draw:
    window = int(rng.integers(1, cfg.history_max + 1)) if cfg.history_window == "random" \
        else cfg.history_max
    k = int(rng.choice(cfg.i2_k)) if task.startswith("I2") else int(
        rng.integers(cfg.k_min, cfg.k_max + 1))
    cand = (task in ("I0", "I1+", "I1-") and rng.random() < cfg.candidate_share
            and not cfg.pool.grounded)
    return Draw(task, u, seq[:t], seq[max(0, t - window):t], int(seq[t]), k, cand, group=group)


def draw_grouped_samples(ctx: TaskContext, cfg: TaskConfig, sizes: dict[str, int],
                         rng: np.random.Generator) -> list[Draw]:
    """The history tasks' draws in groups of `cfg.group` that share one target position, so one
    pool carries several instructions and their different answers (SFT runs the shared prompt once,
    and the model learns from the contrast that the instruction, not the pool, decides the list).

    Each group takes distinct tasks, those with the most draws left first, so every task's count
    is drawn exactly and a group repeats a task only when fewer tasks than `group` are left."""
    left = {t: int(sizes.get(t, 0)) for t in HISTORY_TASKS if sizes.get(t, 0)}
    if not left:
        return []
    users, heldout = _users(ctx, cfg, "grouped")
    sp = ctx.ds.split
    out: list[Draw] = []
    g = 0
    while left:
        order = sorted(left, key=lambda t: (-left[t], HISTORY_TASKS.index(t)))
        tasks = [order[j % len(order)] for j in range(min(cfg.group, sum(left.values())))]
        u, seq, t = _position(sp, users, heldout, rng)
        for task in tasks:
            if left.get(task, 0) == 0:
                continue
            out.append(_draw(cfg, task, u, seq, t, rng, group=g))
            left[task] -= 1
            if left[task] == 0:
                del left[task]
        g += 1
    return out


def _candidates(ctx: TaskContext, label: list[int], allowed: np.ndarray, n: int,
                rng: np.random.Generator) -> list[int]:
    pool = np.flatnonzero(allowed)
    pool = pool[~np.isin(pool, label)]
    extra = rng.choice(pool, size=min(len(pool), max(0, n - len(label))), replace=False).tolist()
    cands = label + extra
    rng.shuffle(cands)
    return [int(c) for c in cands]


def label_draw(ctx: TaskContext, cfg: TaskConfig, d: Draw, ranking: np.ndarray,
               rng: np.random.Generator, prng: random.Random) -> dict | None:
    """Turn one draw into a sample, or None when the catalog cannot satisfy the instruction.

    In the grounded mode (`d.pool` set) the labels are the same teacher-filtered labels restricted to
    the pool: the ranking is the pool's items in the teacher's order."""
    allowed = ctx.allowed(d.prefix)
    partial = False
    if d.pool is not None:
        allowed &= in_pool_mask(d.pool, ctx.n_items)
        ranking = restricted(d.pool)
    intent = Intent("I0")
    form, text = "plain", ""
    if d.task == "I0":
        label = top_allowed(ranking, allowed, d.k, first=d.target)
    elif d.task == "I1+":
        cats = ctx.item_categories[d.target]
        if prng.random() < cfg.i1_pos_target_category and cats:
            c = prng.choice(cats)
        else:
            c = prng.choice(ctx.categories)
        intent = Intent("I1+", c)
        label = top_allowed(ranking, allowed & ctx.in_category(c), d.k, first=d.target)
        if label is None and d.pool is not None:  # the pool has fewer than k items of C
            label, partial = _all_of_c_first(ranking, allowed, ctx.in_category(c), d.k), True
    elif d.task == "I1-":
        c = ctx.negative_category(ranking, allowed, d.target) or prng.choice(ctx.categories)
        intent = Intent("I1-", c)
        label = top_allowed(ranking, allowed & ~ctx.in_category(c), d.k, first=d.target)
    else:
        cats = ctx.item_categories[d.target]
        if prng.random() < 0.5 and cats:
            c = prng.choice(cats)
        else:
            c = ctx.negative_category(ranking, allowed, None) or prng.choice(ctx.categories)
        m = float(prng.choice(cfg.i2_proportions))
        intent = Intent(d.task, c, m)
        label = proportion_label(ranking, allowed, ctx.in_category(c), d.k, d.task,
                                 intent.allowed(d.k), first=d.target)
    if label is None:
        return None
    if intent.kind != "I0":
        phrased = wording.render_intent(intent, d.k, prng)
        text, form = phrased.text, phrased.form
    cands = _candidates(ctx, label, allowed, cfg.n_candidates, rng) if d.candidates else None
    shown = [ctx.titles[i] for i in d.shown]
    if d.pool is not None:
        cands = list(d.pool.items)
        user = grounded_user(ctx, cfg.pool, d.k, shown, text, d.pool)
    else:
        user = wording.user_prompt(d.k, shown, text, [ctx.titles[i] for i in cands] if cands else None)
    if d.pool is not None and cfg.pool.tagged:
        answer = wording.numbered([wording.tagged(ctx.titles[i], ctx.item_categories[i]) for i in label])
    else:
        answer = wording.numbered([ctx.titles[i] for i in label])
    return {
        "task": d.task, "messages": wording.messages(user, answer), "intent": intent.to_json(),
        "k": d.k, "history": d.shown.tolist(), "target": d.target, "labels": label,
        "candidates": cands, "form": form, "instruction": text, "user": d.user,
        **({"partial": True} if partial else {}), **({"group": d.group} if d.group is not None else {}),
    }


def _all_of_c_first(ranking: np.ndarray, allowed: np.ndarray, in_c: np.ndarray, k: int) -> list[int] | None:
    """Every allowed item of C (teacher order), then the best others: k items, or None."""
    inside = ranking[(allowed & in_c)[ranking]].tolist()
    outside = ranking[(allowed & ~in_c)[ranking]].tolist()
    label = (inside + outside)[:k]
    return label if len(label) == k and inside else None


def grounded_user(ctx: TaskContext, pcfg, k: int, shown: list[str], text: str, pool: Pool) -> str:
    """The grounded user turn of one history and pool (training samples and test cases alike)."""
    cats = [ctx.item_categories[i] for i in pool.items] if pcfg.show_categories else None
    shown = shown[len(shown) - pcfg.history:] if pcfg.history else []
    return wording.grounded_prompt(k, shown, text, [ctx.titles[i] for i in pool.items], cats,
                                   ranked=pcfg.order == "teacher",
                                   instruction_first=pcfg.instruction == "before")


def search_samples(ctx: TaskContext, cfg: TaskConfig, n: int, rng: np.random.Generator,
                   prng: random.Random) -> list[dict]:
    """I3: k items of category C, no history; labels drawn from C in proportion to popularity."""
    out = []
    sizes = ctx.catmat.sum(axis=1)
    for _ in range(n):
        k = int(rng.integers(cfg.k_min, cfg.k_max + 1))
        eligible = [c for j, c in enumerate(ctx.categories) if sizes[j] >= k]
        c = prng.choice(eligible)
        members = np.flatnonzero(ctx.in_category(c))
        p = ctx.popularity[members] / ctx.popularity[members].sum()
        label = rng.choice(members, size=k, replace=False, p=p).tolist()
        cands = None
        if rng.random() < cfg.candidate_share:
            cands = _candidates(ctx, label, np.ones(ctx.n_items, bool), cfg.n_candidates, rng)
        intent = Intent("I3", c)
        text = wording.render_intent(intent, k, prng).text
        user = wording.user_prompt(k, None, text, [ctx.titles[i] for i in cands] if cands else None)
        out.append({
            "task": "I3", "messages": wording.messages(user, wording.numbered(
                [ctx.titles[i] for i in label])),
            "intent": intent.to_json(), "k": k, "history": [], "target": None, "labels": label,
            "candidates": cands, "form": "plain", "instruction": text, "user": None,
        })
    return out


def reverse_samples(ctx: TaskContext, n: int, rng: np.random.Generator,
                    prng: random.Random) -> list[dict]:
    """I3 reverse: 'which categories does X belong to?' answered from the catalog."""
    p = ctx.popularity / ctx.popularity.sum()
    items = rng.choice(ctx.n_items, size=n, replace=True, p=p)
    out = []
    for item in items.tolist():
        q = prng.choice(wording.REVERSE_QUESTION).format(t=ctx.titles[item])
        answer = ", ".join(ctx.item_categories[item])
        out.append({
            "task": "I3r", "messages": wording.messages(q, answer, system=wording.SYSTEM_CHAT),
            "intent": None, "k": None, "history": [], "target": item, "labels": [item],
            "candidates": None, "form": "plain", "instruction": q, "user": None,
        })
    return out
