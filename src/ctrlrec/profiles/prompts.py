"""The wording of the profile prompts: single round, the two-round conversation, item profiles.

Histories are shown as `id: title (categories)` lines, the most recent `cap` items only, so prompts
stay short enough for a small model's context. Every prompt asks for the fixed shape of
`ctrlrec.profiles.shape`.
"""

from __future__ import annotations

from collections.abc import Sequence

SYSTEM = "You write short user profiles for a recommender system."
SHAPE = "User identity: phrase 1, phrase 2, phrase 3; User interests: phrase 1, phrase 2, phrase 3"
ASK = (f"Answer in exactly this shape, three phrases each: \"{SHAPE}\".")


class ItemText:
    """Item lines (`id: title (categories)`) of a catalog."""

    def __init__(self, catalog):
        cat = catalog.sort_values("item_id")
        self.titles = [str(t) for t in cat["title"]]
        self.cats = [", ".join(map(str, c)) if c is not None and len(c) else "" for c in cat["categories"]]

    def line(self, item: int) -> str:
        c = self.cats[item]
        return f"{item}: {self.titles[item]}" + (f" ({c})" if c else "")

    def lines(self, items: Sequence[int], cap: int) -> str:
        shown = list(items)[-cap:] if cap > 0 else list(items)
        return "\n".join(self.line(int(i)) for i in shown) if shown else "(none)"


def profile_messages(text: ItemText, user: int, history: Sequence[int], cap: int = 20) -> list[dict]:
    """Single round: the user's history in, the user's profile out (no assistant turn)."""
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"User {user} interacted with these items:\n"
                                        f"{text.lines(history, cap)}\n"
                                        f"Write the profile of user {user}. {ASK}"}]


def collaborative_messages(text: ItemText, user: int, history: Sequence[int],
                           neighbours: Sequence[tuple[int, Sequence[int]]], cap: int = 20,
                           neighbour_cap: int = 10) -> list[dict]:
    """Round 1: the user's history plus the similar users' histories; asks for every profile."""
    parts = [f"User {user} interacted with these items:\n{text.lines(history, cap)}"]
    for n, items in neighbours:
        parts.append(f"Similar user {n} interacted with these items:\n{text.lines(items, neighbour_cap)}")
    ids = ", ".join(str(n) for n, _ in neighbours)
    who = f"user {user} and of each similar user ({ids})" if ids else f"user {user}"
    parts.append(f"Write the profile of {who}, one line each, starting with \"User ID:\". {ASK}")
    return [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "\n\n".join(parts)}]


def collaborative_answer(user: int, profiles: dict[int, str], neighbours: Sequence[int]) -> str:
    """The round-1 target: the user's profile line first, then each neighbour's."""
    return "\n".join(f"User {u}: {profiles[u]}" for u in [user, *neighbours] if u in profiles)


def question(text: ItemText, user: int, item: int) -> str:
    return f"Will user {user} interact with item {text.line(item)}? Answer Yes or No."


def with_question(messages: list[dict], answer: str, q: str) -> list[dict]:
    """A conversation continued by the round-1 answer and the round-2 question (no reply yet)."""
    return [*messages, {"role": "assistant", "content": answer}, {"role": "user", "content": q}]


def item_messages(text: ItemText, item: int, user_profiles: Sequence[str], cap: int = 5) -> list[dict]:
    """An item profile: the item's text and profiles of users who interacted with it."""
    shown = "\n".join(f"- {p}" for p in list(user_profiles)[:cap]) or "- (no users yet)"
    return [{"role": "system", "content": SYSTEM},
            {"role": "user", "content": f"Item {text.line(item)}.\n"
                                        f"Profiles of users who interacted with it:\n{shown}\n"
                                        f"Describe the users this item is for. {ASK}"}]


WRONG_INSTRUCTIONS = (
    "Describe a user who would never choose any of these items.",
    "Write one sentence about the weather.",
    "List three random first names.",
)


def wrong_messages(text: ItemText, user: int, history: Sequence[int], k: int, cap: int = 20) -> list[dict]:
    """A deliberately wrong prompt (reward-model negatives): same history, misleading instruction."""
    msgs = profile_messages(text, user, history, cap)
    body = msgs[1]["content"].rsplit("\n", 1)[0]
    msgs[1] = {"role": "user", "content": f"{body}\n{WRONG_INSTRUCTIONS[k % len(WRONG_INSTRUCTIONS)]}"}
    return msgs
