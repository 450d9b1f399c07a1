"""How instructions are put into words: phrasings of every intent kind and the prompt templates.

The intent *types* (kinds, category, proportion, exact k*m) live in `ctrlrec.scoring.intents`,
because scoring is their normative user; this module only renders them as text. All phrasings were
written for ctrlrec. A rendered prompt always states k and, for I2, the very number (percentage or
count) that the label and the scorer use: `render_intent` returns the Intent it actually phrased.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from ctrlrec.scoring.intents import Intent

SYSTEM = (
    "You are a recommender system. Answer with a numbered list of item titles, one per line, "
    "exactly as many as asked, and nothing else."
)

SYSTEM_CHAT = "You are a helpful assistant who knows the catalog well."

POSITIVE = (
    "I'm in the mood for '{c}' titles.",
    "Please give me more '{c}'.",
    "I'd love some '{c}' picks.",
    "Focus on '{c}' items, please.",
    "Only '{c}' this time.",
    "Show me what you have in '{c}'.",
    "I want to explore '{c}'.",
    "Show me titles from the '{c}' category.",
)
# I3 (item search: no history to go on) has its own phrasings: "more" of C means nothing without one
SEARCH = (
    "What are good '{c}' titles?",
    "I'm looking for '{c}' titles.",
    "Suggest some '{c}' titles.",
    "Which '{c}' titles would you suggest?",
    "Show me the best of '{c}'.",
    "Find me '{c}' titles.",
)
NEGATIVE = (
    "No '{c}', please.",
    "I'm tired of '{c}' items.",
    "Leave out anything that is '{c}'.",
    "Skip '{c}' titles entirely.",
    "Nothing from the '{c}' category.",
    "I don't want to see '{c}' right now.",
    "Please avoid '{c}'.",
    "Keep '{c}' out of my list.",
)
# {c}: category, {p}: percentage (e.g. 30%), {n}: count, {k}: list length
AT_MOST_PCT = (
    "At most {p} of the list should be '{c}'.",
    "Keep '{c}' to no more than {p} of the recommendations.",
    "I'd like '{c}' items to make up {p} of the list or less.",
)
AT_MOST_CNT = (
    "Include at most {n} '{c}' items.",
    "No more than {n} of the {k} should be '{c}'.",
    "Limit '{c}' to {n} items or fewer.",
)
ABOUT_PCT = (
    "About {p} of the list should be '{c}'.",
    "Make roughly {p} of the recommendations '{c}'.",
    "I'd like around {p} '{c}' items in the list.",
)
ABOUT_CNT = (
    "Include about {n} '{c}' items.",
    "Roughly {n} of the {k} should be '{c}'.",
    "Around {n} '{c}' items would be good.",
)
AT_LEAST_PCT = (
    "At least {p} of the list should be '{c}'.",
    "Make '{c}' no less than {p} of the recommendations.",
    "I want '{c}' to be {p} of the list or more.",
)
AT_LEAST_CNT = (
    "Include at least {n} '{c}' items.",
    "At least {n} of the {k} should be '{c}'.",
    "Give me {n} or more '{c}' items.",
)
PROPORTION = {
    "I2<=": (AT_MOST_PCT, AT_MOST_CNT),
    "I2~": (ABOUT_PCT, ABOUT_CNT),
    "I2>=": (AT_LEAST_PCT, AT_LEAST_CNT),
}
# k values whose multiples j/k are exact short decimals, so a count phrasing has an exact proportion.
COUNT_FRIENDLY_K = (1, 2, 4, 5, 8, 10, 20, 25, 40, 50)

REVERSE_QUESTION = (
    "Which categories does '{t}' belong to?",
    "What kind of item is '{t}'? Name its categories.",
    "List the categories of '{t}'.",
)


@dataclass(frozen=True)
class Phrased:
    """An intent in words, with the Intent that the words mean exactly."""

    text: str
    intent: Intent
    form: str  # "plain", "pct" or "count"


def shorten(title: str, max_chars: int = 80) -> str:
    """Long titles shortened for prompts (history and candidates), cut at a word boundary."""
    if len(title) <= max_chars:
        return title
    cut = title[: max_chars - 1].rsplit(" ", 1)[0]
    return cut + "…"


def percent(m: float) -> str:
    """0.3 -> '30%', 0.125 -> '12.5%'."""
    v = round(m * 100, 6)
    return f"{int(v)}%" if v == int(v) else f"{v:g}%"


def quoted(category: str) -> str:
    """A category in quotes: single quotes, or double ones where it holds an apostrophe (Children's)."""
    return f'"{category}"' if "'" in category else f"'{category}'"


def _say(template: str, c: str, **values) -> str:
    # the templates quote '{c}' in single quotes; a category with an apostrophe gets double ones
    return template.replace("'{c}'", quoted(c)).format(c=c, **values)


def render_intent(intent: Intent, k: int, rng: random.Random, form: str | None = None) -> Phrased:
    """Phrase one intent. For I2 choose a percentage or (when exact) a count phrasing."""
    c = intent.category
    if intent.kind == "I1+":
        return Phrased(_say(rng.choice(POSITIVE), c), intent, "plain")
    if intent.kind == "I3":
        return Phrased(_say(rng.choice(SEARCH), c), intent, "plain")
    if intent.kind == "I1-":
        return Phrased(_say(rng.choice(NEGATIVE), c), intent, "plain")
    if intent.kind in PROPORTION:
        pct_forms, cnt_forms = PROPORTION[intent.kind]
        allowed = intent.allowed(k)
        can_count = allowed.denominator == 1
        if form is None:
            form = "count" if can_count and rng.random() < 0.5 else "pct"
        if form == "count" and not can_count:
            raise ValueError(f"k={k}, m={intent.proportion}: k*m is not a whole number of items")
        if form == "count":
            text = _say(rng.choice(cnt_forms), c, n=int(allowed), k=k)
        else:
            text = _say(rng.choice(pct_forms), c, p=percent(intent.proportion), k=k)
        return Phrased(text, intent, form)
    return Phrased("", intent, "plain")


def render_intents(intents: tuple[Intent, ...], k: int, rng: random.Random) -> str:
    """Combined instructions: the parts' phrasings joined into one request."""
    return " ".join(render_intent(it, k, rng).text for it in intents if it.kind != "I0")


def _titles(titles: list[str]) -> str:
    return "; ".join(f"'{shorten(t)}'" for t in titles)


def user_prompt(
    k: int,
    history: list[str] | None,
    intention: str = "",
    candidates: list[str] | None = None,
) -> str:
    """The user turn: history (oldest first), the intention, candidates, and the number wanted."""
    parts = []
    if history:
        parts.append(f"I recently enjoyed, oldest first: {_titles(history)}.")
    if intention:
        parts.append(intention)
    if candidates:
        parts.append(f"Choose only from these candidates: {_titles(candidates)}.")
    wanted = "one item" if k == 1 else f"{k} different items"
    if history:
        parts.append(f"Recommend {wanted} I have not seen.")
    else:
        parts.append(f"Recommend {wanted}.")
    return " ".join(parts)


def messages(user: str, answer: str | None = None, system: str = SYSTEM) -> list[dict]:
    """Chat messages in the `[{role, content}]` form every chat template takes."""
    out = [{"role": "system", "content": system}, {"role": "user", "content": user}]
    if answer is not None:
        out.append({"role": "assistant", "content": answer})
    return out


def numbered(titles: list[str]) -> str:
    """The list format the model learns and the scorer parses: '1. Title' lines."""
    return "\n".join(f"{j + 1}. {t}" for j, t in enumerate(titles))


def tag(categories: list[str]) -> str:
    """The category tag of a candidate: `[Comedy, Drama]`."""
    return f"[{', '.join(categories) or 'no category'}]"


def tagged(title: str, categories: list[str]) -> str:
    """An answer line's item in the tagged format: `[Comedy, Drama] 'Title'` (the full title)."""
    return f"{tag(categories)} '{title}'"


def _candidate(title: str, categories: list[str] | None) -> str:
    # categories BEFORE the title: a causal model reads a title's tokens after its categories, so
    # the title itself carries them when the model decides which candidate to copy
    if categories is None:
        return f"'{shorten(title)}'"
    return f"{tag(categories)} '{shorten(title)}'"


def grounded_prompt(
    k: int,
    history: list[str] | None,
    intention: str,
    candidates: list[str],
    categories: list[list[str]] | None = None,
    ranked: bool = True,
    instruction_first: bool = False,
) -> str:
    """The grounded mode's user turn: history, the candidate pool, the intention, the number wanted.

    categories: one list per candidate (shown in brackets before its title), or None for titles alone.
    ranked: the pool is in the teacher's order ("best first"), else in a neutral order.
    instruction_first: the intention and the number wanted come before the pool (every candidate's
    tokens can then attend to the instruction), else after it, next to the answer.
    """
    parts = []
    if history:
        parts.append(f"I recently enjoyed, oldest first: {_titles(history)}.")
    cats = categories if categories is not None else [None] * len(candidates)
    listing = "; ".join(_candidate(t, c) for t, c in zip(candidates, cats, strict=True))
    wanted = "one item" if k == 1 else f"{k} different items"
    ask = ([intention] if intention else []) + [f"Recommend {wanted} from the candidates."]
    pool = f"Candidates{', best first' if ranked else ''}: {listing}."
    return " ".join(parts + (ask + [pool] if instruction_first else [pool] + ask))
