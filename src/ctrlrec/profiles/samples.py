"""Training conversations for `profiles train`: single-round (teacher profile as the answer) and
RecLM's two-round conversation (round 1: profiles of the user and its neighbours; round 2: Yes/No).
The held-out item of a user's round-2 sample is removed from every history shown for that user."""

from __future__ import annotations

from ctrlrec.profiles import rounds
from ctrlrec.profiles.context import ProfileContext
from ctrlrec.profiles.prompts import (
    collaborative_answer,
    collaborative_messages,
    profile_messages,
    question,
    with_question,
)


def fitting(tok, samples: list[dict], max_length: int) -> tuple[list[dict], int]:
    """The samples whose whole conversation fits in `max_length` tokens, and how many did not (a cut
    conversation would lose its round-2 answer)."""
    from tqdm.auto import tqdm

    from ctrlrec.llm.chat import tokenise

    keep = [s for s in tqdm(samples, desc="measure", unit="conversation", leave=False)
            if len(tokenise(tok, s["messages"]).input_ids) <= max_length]
    return keep, len(samples) - len(keep)


def held_out(ctx: ProfileContext, u: int) -> int | None:
    r = ctx.round2.get(u)
    return r.held_out if r else None


def single_prompt(ctx: ProfileContext, u: int) -> list[dict]:
    return profile_messages(ctx.text, u, rounds.without(ctx.histories[u], held_out(ctx, u)),
                            ctx.cfg.history_cap)


def round1_prompt(ctx: ProfileContext, u: int) -> list[dict]:
    return collaborative_messages(ctx.text, u, rounds.without(ctx.histories[u], held_out(ctx, u)),
                                  ctx.neighbour_histories(u), ctx.cfg.history_cap, ctx.cfg.neighbour_cap)


def single_samples(ctx: ProfileContext, users, targets: dict[int, str]) -> list[dict]:
    return [{"user": u, "messages": [*single_prompt(ctx, u), {"role": "assistant", "content": targets[u]}]}
            for u in users if u in targets]


def two_round_samples(ctx: ProfileContext, users, targets: dict[int, str]) -> list[dict]:
    """One two-round conversation per user with a round-2 sample and a target profile."""
    out = []
    for u in users:
        r = ctx.round2.get(u)
        if r is None or u not in targets:
            continue
        answer = collaborative_answer(u, targets, ctx.neighbours[u])
        msgs = with_question(round1_prompt(ctx, u), answer, question(ctx.text, u, r.item))
        out.append({"user": u, "item": r.item, "label": r.answer,
                    "messages": [*msgs, {"role": "assistant", "content": r.answer}]})
    return out
