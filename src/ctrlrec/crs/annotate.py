"""What the reward model reads: recommendation turns whose titles carry their catalog categories.

A recommendation turn is a list of titles. A small LLM knows the genres of few of them, so a reward
model that reads titles alone can hardly relate a list to the likes and dislikes stated earlier in
the conversation, the main thing engagement follows. With a catalog (`RMConfig.annotate`, a dataset
name), every title of an assistant turn that grounds to an item is followed by its categories,
"Heat (1995) [Action, Crime, Thriller]"; a title that names no item gets "[not in catalog]". The same
function serves training and scoring (PPO rewards), so both see the same text.
"""

from __future__ import annotations

import numpy as np

from ctrlrec.scoring import Catalog, parse_lines

MISSING = "[not in catalog]"


def categories_of(catalog: Catalog, index: int) -> list[str]:
    """Category names of catalog item `index` (-1 = none)."""
    if index < 0 or not catalog.category_names:
        return []
    m = len(catalog.category_names)
    inside = catalog.in_category(np.full(m, index), np.arange(m))
    return [catalog.category_names[j] for j in np.flatnonzero(inside)]


def annotate_text(text: str, catalog: Catalog) -> str:
    """`text` with " [categories]" after each parsed title (spec §2.1 lines; grounding §3)."""
    parsed = parse_lines(text)
    if not parsed.titles:
        return text
    found = catalog.ground_many(list(parsed.titles)).tolist()
    out = text
    for (_, end), title, idx in reversed(list(zip(parsed.spans, parsed.titles, found, strict=True))):
        if not title:
            continue
        cats = categories_of(catalog, int(idx))
        note = f"[{', '.join(cats)}]" if idx >= 0 else MISSING
        out = out[:end] + " " + note + out[end:]
    return out


def annotate(messages: list[dict], catalog: Catalog | None) -> list[dict]:
    """Chat messages with every assistant turn annotated; unchanged without a catalog."""
    if catalog is None:
        return messages
    return [{**m, "content": annotate_text(m["content"], catalog)} if m["role"] == "assistant" else m
            for m in messages]


def load_catalog(dataset: str) -> Catalog | None:
    """The catalog of a prepared dataset (name or folder); None for ""."""
    if not dataset:
        return None
    from ctrlrec.data import load_catalog as load_frame

    return Catalog.from_frame(load_frame(dataset))
