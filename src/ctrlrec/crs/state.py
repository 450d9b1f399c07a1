"""The state s_t the recommender sees (the conversation so far as chat messages) and the reading of
its action a_t (a numbered list of titles, grounded to catalog item ids with `ctrlrec.scoring`)."""

from __future__ import annotations

from ctrlrec.crs.dialogue import Turn
from ctrlrec.intents import numbered
from ctrlrec.scoring import Catalog, parse_lines

SYSTEM = ("You are a conversational recommender. Answer each user message with a numbered list of "
          "{k} item titles the user has not mentioned, one per line, and nothing else.")


def messages(turns: list[Turn], k: int) -> list[dict]:
    """Chat messages of a conversation (user -> user, recommender -> assistant) after the system line."""
    out = [{"role": "system", "content": SYSTEM.format(k=k)}]
    out += [{"role": "user" if t.role == "user" else "assistant", "content": t.text} for t in turns]
    return out


def ground(catalog: Catalog, text: str) -> list[int]:
    """Item ids (catalog indexes; -1 = names no catalog item) of the lines of a recommendation."""
    titles = parse_lines(text).titles
    return catalog.ground_many(list(titles)).tolist() if titles else []


def render(titles: list[str]) -> str:
    """A recommendation turn in the project's answer format."""
    return numbered(titles)
