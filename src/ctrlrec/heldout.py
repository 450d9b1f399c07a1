"""Held-out phrasings: wordings of I1/I2 intents that the training templates never use.

A fixed held-out test set measures whether a model follows instructions beyond the sentence
frames of `ctrlrec.intents` (POSITIVE, NEGATIVE, AT_MOST_PCT, ...). Nothing here shares a frame
with those templates: no held-out frame contains a run of two or more words of a template's fixed
text (the quantifiers "at most", "at least" and "or more" excepted: they are the words of the
proportion itself), none matches a template with its slots filled by anything, and a category is
never put in quotes as the templates do.

Two flavours, picked by the rng (or forced with `flavour=`):

- "name": natural frames with the category's plain name, lowercased and pluralised where it
  reads naturally ("anything but westerns", "up to two dramas, no more");
- "synonym": a colloquial synonym from `HELDOUT_SYNONYMS` instead of the name ("nothing scary,
  thanks", "something funny would hit the spot"). A category without synonyms falls back to
  its name.

As in `render_intent`, an I2 phrasing states the very number the scorer uses: a count (k*m, only
when it is whole) or the percentage of `ctrlrec.intents.percent`. The returned `Phrased` carries
the Intent that the words mean and the form ("plain", "count" or "pct").
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from ctrlrec.intents import Phrased, percent
from ctrlrec.scoring.intents import Intent

FLAVOURS = ("name", "synonym")

# Colloquial synonyms per category (MovieLens genre names; the lookup in `synonyms` ignores case,
# punctuation and a plural 's', so Steam's "Sci-fi" or "Horror" tags find them too).
# Each entry is (text, part of speech): "adj" modifies a noun ("scary stuff", "nothing scary"),
# "post" follows one ("stuff for the kids"), "noun" is a countable noun given as singular|plural.
_SYNONYM_SPEC: dict[str, tuple[tuple[str, str], ...]] = {
    "Action": (("action-packed", "adj"), ("explosive", "adj"), ("high-octane", "adj"),
               ("with explosions", "post")),
    "Adventure": (("quest|quests", "noun"), ("expedition|expeditions", "noun"),
                  ("swashbuckling", "adj")),
    "Animation": (("cartoon|cartoons", "noun"), ("animated", "adj")),
    "Children's": (("for the kids", "post"), ("kid-friendly", "adj"), ("family-friendly", "adj")),
    "Comedy": (("funny", "adj"), ("hilarious", "adj"), ("laugh-out-loud", "adj")),
    "Crime": (("gangster", "adj"), ("heist|heists", "noun")),
    "Documentary": (("real-life story|real-life stories", "noun"), ("fact-based", "adj")),
    "Drama": (("serious drama|serious dramas", "noun"), ("tear-jerking", "adj"), ("weighty", "adj")),
    "Fantasy": (("magical", "adj"), ("with magic and dragons", "post"),
                ("sword-and-sorcery", "adj")),
    "Film-Noir": (("noir", "adj"), ("hard-boiled", "adj")),
    "Horror": (("scary", "adj"), ("spooky", "adj"), ("frightening", "adj")),
    "Musical": (("with singing and dancing", "post"), ("song-and-dance", "adj")),
    "Mystery": (("whodunit|whodunits", "noun"), ("detective", "adj")),
    "Romance": (("love story|love stories", "noun"), ("romantic", "adj")),
    "Sci-Fi": (("science fiction", "adj"), ("futuristic", "adj"), ("space-age", "adj")),
    "Thriller": (("edge-of-your-seat", "adj"), ("suspenseful", "adj"), ("nail-biting", "adj")),
    "War": (("battlefield", "adj"), ("soldier story|soldier stories", "noun")),
    "Western": (("cowboy", "adj"), ("Wild West", "adj")),
}

HELDOUT_SYNONYMS: dict[str, tuple[str, ...]] = {
    cat: tuple(text.split("|")[-1] for text, _ in entries) for cat, entries in _SYNONYM_SPEC.items()
}
"""Category name -> its colloquial synonyms as they appear in phrasings (countable nouns plural)."""

# Plain names that read better as nouns of their own: key -> (group phrase, singular, plural).
# Other names are used lowercased as a mass noun ("horror") with "pick(s)" to count them.
_NAME_NOUNS: dict[str, tuple[str, str, str]] = {
    "adventure": ("adventures", "adventure", "adventures"),
    "children": ("children's titles", "children's title", "children's titles"),
    "comedy": ("comedies", "comedy", "comedies"),
    "documentary": ("documentaries", "documentary", "documentaries"),
    "drama": ("dramas", "drama", "dramas"),
    "filmnoir": ("film noir", "film noir pick", "film noir picks"),
    "musical": ("musicals", "musical", "musicals"),
    "mystery": ("mysteries", "mystery", "mysteries"),
    "romance": ("romance", "romance", "romances"),
    "thriller": ("thrillers", "thriller", "thrillers"),
    "war": ("war stories", "war story", "war stories"),
    "western": ("westerns", "western", "westerns"),
}


def _key(category: str) -> str:
    """Case, punctuation and a final plural 's' ignored: "Sci-fi" ~ "SCI-FI", "Children" ~ "Children's"."""
    k = re.sub(r"[^a-z0-9]", "", category.lower())
    return k[:-1] if len(k) > 3 and k.endswith("s") else k


_SPEC_BY_KEY = {_key(c): v for c, v in _SYNONYM_SPEC.items()}


def synonyms(category: str) -> tuple[str, ...]:
    """The held-out synonyms of a category (any case or punctuation), () when it has none."""
    return tuple(text.split("|")[-1] for text, _ in _SPEC_BY_KEY.get(_key(category), ()))


@dataclass(frozen=True)
class _Noun:
    """How one category expression fills the slots of the frames."""

    group: str  # the items as a group: "dramas", "scary stuff"
    none: str  # "no dramas", "nothing scary"
    some: str  # "some dramas", "something scary"
    singular: str  # counted: "one drama", "one scary pick"
    plural: str  # "two dramas", "two scary picks"


def _plain(category: str) -> str:
    # acronyms ("RPG", "2D") stay as written, other words are lowercased
    return " ".join(w if len(w) > 1 and w.isupper() else w.lower() for w in category.split())


def _name_noun(category: str) -> _Noun:
    found = _NAME_NOUNS.get(_key(category))
    if found is None:
        base = _plain(category)
        found = (base, f"{base} pick", f"{base} picks")
    group, sing, plur = found
    return _Noun(group, f"no {group}", f"some {group}", sing, plur)


def _synonym_noun(text: str, pos: str) -> _Noun:
    if pos == "noun":
        sing, plur = text.split("|")
        return _Noun(plur, f"no {plur}", f"some {plur}", sing, plur)
    if pos == "post":
        return _Noun(f"stuff {text}", f"nothing {text}", f"something {text}", f"pick {text}",
                     f"picks {text}")
    return _Noun(f"{text} stuff", f"nothing {text}", f"something {text}", f"{text} pick",
                 f"{text} picks")


# Frames. Slots: {group} {none} {some} (the category expression), {cnt} (a number with the counted
# noun), {pct} (e.g. 20%), {k} (the list length in words or digits).
POSITIVE_FRAMES = (
    "I'm only after {group} tonight.",
    "Stick with {group} for me.",
    "Mostly {group}, if you can.",
    "I'm craving {some}.",
    "{some} would hit the spot.",
    "Nothing but {group}, thanks.",
    "Line up {group} for my evening.",
)
NEGATIVE_FRAMES = (
    "Anything but {group}.",
    "{none} tonight, thanks.",
    "Keep it free of {group}.",
    "Steer clear of {group}.",
    "I've had enough of {group} lately.",
    "Spare me {group}.",
    "Everything except {group}.",
)
AT_MOST_COUNT = (
    "Up to {cnt}, no more.",
    "{cnt} tops, out of {k}.",
    "{cnt} or fewer out of {k}, thanks.",
    "Out of {k}, {cnt} at most.",
    "A maximum of {cnt} in my {k}.",
)
AT_MOST_PERCENT = (
    "Up to {pct} {group}, no more.",
    "{group} capped at {pct} of my picks.",
    "{pct} {group} or less, thanks.",
    "Let {group} fill {pct} of my picks at most.",
    "{group} shouldn't go past {pct}.",
)
ABOUT_COUNT = (
    "Around {cnt} out of {k}.",
    "Roughly {cnt} in there.",
    "Something like {cnt}.",
    "Throw in about {cnt}.",
    "{cnt}, give or take.",
)
ABOUT_PERCENT = (
    "Aim for around {pct} {group}.",
    "Something like {pct} {group} would be nice.",
    "{group} at roughly {pct} of my picks.",
    "{pct} {group}, give or take.",
)
AT_LEAST_COUNT = (
    "{cnt} or more out of {k}, thanks.",
    "A minimum of {cnt}.",
    "No fewer than {cnt} in my {k}.",
    "Out of {k}, at least {cnt}.",
    "{cnt} minimum.",
)
AT_LEAST_PERCENT = (
    "{pct} {group} or more, if possible.",
    "At least {pct} {group}, thanks.",
    "{group} filling {pct} of my picks at minimum.",
    "A floor of {pct} {group}.",
)
PROPORTION_FRAMES = {
    "I2<=": (AT_MOST_PERCENT, AT_MOST_COUNT),
    "I2~": (ABOUT_PERCENT, ABOUT_COUNT),
    "I2>=": (AT_LEAST_PERCENT, AT_LEAST_COUNT),
}
ALL_FRAMES = (POSITIVE_FRAMES + NEGATIVE_FRAMES + AT_MOST_COUNT + AT_MOST_PERCENT + ABOUT_COUNT
              + ABOUT_PERCENT + AT_LEAST_COUNT + AT_LEAST_PERCENT)

NUMBER_WORDS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine",
                "ten", "eleven", "twelve", "thirteen", "fourteen", "fifteen")


def _number(n: int, rng: random.Random) -> str:
    if n < len(NUMBER_WORDS) and rng.random() < 0.7:
        return NUMBER_WORDS[n]
    return str(n)


def _expression(category: str, rng: random.Random, flavour: str | None) -> tuple[_Noun, str]:
    """The category's slot fillers and the flavour actually used."""
    if flavour not in (None, *FLAVOURS):
        raise ValueError(f"flavour must be one of {FLAVOURS} or None (got {flavour!r})")
    spec = _SPEC_BY_KEY.get(_key(category), ())
    if flavour is None:
        flavour = "synonym" if spec and rng.random() < 0.5 else "name"
    if flavour == "synonym" and spec:
        text, pos = rng.choice(spec)
        return _synonym_noun(text, pos), "synonym"
    return _name_noun(category), "name"


def _sentence(text: str) -> str:
    return text[:1].upper() + text[1:]


def render_heldout_flavoured(intent: Intent, k: int, rng: random.Random, form: str | None = None,
                             flavour: str | None = None) -> tuple[Phrased, str]:
    """`render_heldout` plus the flavour used ("name" or "synonym"; "name" for I0)."""
    if intent.kind == "I0":
        return Phrased("", intent, "plain"), "name"
    c = intent.category
    assert c is not None
    if intent.kind in ("I1+", "I3", "I1-"):
        frames = NEGATIVE_FRAMES if intent.kind == "I1-" else POSITIVE_FRAMES
        frame = rng.choice(frames)
        noun, used = _expression(c, rng, flavour)
        text = frame.format(group=noun.group, none=noun.none, some=noun.some)
        return Phrased(_sentence(text), intent, "plain"), used
    if intent.kind not in PROPORTION_FRAMES:
        raise ValueError(f"no held-out phrasing for intent kind {intent.kind!r}")
    pct_frames, cnt_frames = PROPORTION_FRAMES[intent.kind]
    allowed = intent.allowed(k)
    can_count = allowed.denominator == 1
    if form is None:
        form = "count" if can_count and rng.random() < 0.5 else "pct"
    if form == "count" and not can_count:
        raise ValueError(f"k={k}, m={intent.proportion}: k*m is not a whole number of items")
    if form not in ("count", "pct"):
        raise ValueError(f"form must be 'count' or 'pct' for I2 (got {form!r})")
    noun, used = _expression(c, rng, flavour)
    if form == "count":
        n = int(allowed)
        cnt = f"{_number(n, rng)} {noun.singular if n == 1 else noun.plural}"
        text = rng.choice(cnt_frames).format(cnt=cnt, k=_number(k, rng))
    else:
        text = rng.choice(pct_frames).format(pct=percent(intent.proportion), group=noun.group)
    return Phrased(_sentence(text), intent, form), used


def render_heldout(intent: Intent, k: int, rng: random.Random, form: str | None = None,
                   flavour: str | None = None) -> Phrased:
    """Phrase one intent in held-out words (I1+, I1-, I2<=, I2~, I2>=; I3 as I1+, I0 as "").

    form: for I2, "count" (only when k*m is whole) or "pct"; None lets the rng choose.
    flavour: "name" or "synonym"; None lets the rng choose (synonym only where one exists).
    """
    return render_heldout_flavoured(intent, k, rng, form, flavour)[0]


def render_heldout_intents(intents: tuple[Intent, ...], k: int, rng: random.Random) -> str:
    """Combined instructions in held-out words: the parts' phrasings joined into one request."""
    return " ".join(render_heldout(it, k, rng).text for it in intents if it.kind != "I0")
