"""What a person names in a chat message: catalog items (by title) and stated exclusions.

Titles are found in the message after scoring's normalisation (`ctrlrec.scoring.parse.normalise`):
a title matches with or without its trailing "(year)", as whole words; the longest titles are taken
first and their words are not reused ("Toy Story 2" is not also "Toy Story"). Titles that share a
normal form go to the earlier catalog row (the spec's tie rule). A key of one short word (under 5
characters, e.g. "It", "Heat") is matched only with its year, so everyday words do not name films.
Exclusions ("no horror please") come from the keyword parser of `ctrlrec.eval.keywords`.
"""

from __future__ import annotations

import re

from ctrlrec.scoring.intents import Intent
from ctrlrec.scoring.parse import normalise

YEAR = re.compile(r"\s*\(\d{4}\)\s*$")


class Mentions:
    def __init__(self, titles: list[str], categories: list[str]):
        self.categories = list(categories)
        keys: dict[str, int] = {}
        for i, title in enumerate(titles):
            full = normalise(title)
            bare = normalise(YEAR.sub("", title))
            for key in (full, bare):
                if not key or (key == bare and " " not in key and len(key) < 5):
                    continue
                keys.setdefault(key, i)  # the earlier catalog row keeps a shared key
        self.keys = sorted(keys.items(), key=lambda kv: -len(kv[0]))

    def items(self, text: str) -> list[int]:
        """Catalog indexes of the titles named in `text`, in the order they appear."""
        padded = f" {normalise(text)} "
        found: list[tuple[int, int]] = []
        for key, idx in self.keys:
            at = padded.find(f" {key} ")
            if at < 0:
                continue
            found.append((at, idx))
            padded = padded[:at] + " " + "\0" * len(key) + " " + padded[at + len(key) + 2:]
        return list(dict.fromkeys(idx for _, idx in sorted(found)))

    def exclusions(self, text: str) -> tuple[Intent, ...]:
        """The categories the person asks to leave out, as I1- intents."""
        from ctrlrec.eval.keywords import parse_keywords

        return tuple(p for p in parse_keywords(text, self.categories, 10) if p.kind == "I1-")
