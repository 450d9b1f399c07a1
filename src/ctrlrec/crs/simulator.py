"""A seeded user simulator built from a real interaction dataset (docs/crs.md, "Simulator").

A simulated user is a dataset user whose last `n_holdout` items are held out as the future the
simulator knows; the rest is their history. Rules:

Preferences. For each category, lift = (share among the history's items) / (share in the catalog).
Likes: the `n_likes` categories with the most history items among those with lift > 1 (the most
frequent ones when none has). Dislikes: the `n_dislikes` categories with the lowest lift among
those with at least 2% of the catalog, never a like nor a category of a held-out item.

Turns. The opening user turn names the `n_mentioned` most recent history items and the first like;
every later user turn reacts to the last recommendation and states one more preference (the next
like, then the dislikes, alternating) until all are stated.

Reactions. Each recommended line is classed:
  accept  - a held-out item not accepted before;
  mild    - an item with a liked category and no disliked one, not seen, not rejected before;
  reject  - anything else (disliked category, seen or mentioned item, repeat of a rejected item,
            a line naming no catalog item).
With probability `noise` a grounded item's class is replaced by one drawn uniformly from the three.
The turn's feedback: any accept -> accepted, sentiment 0.8, dwell ~ `dwell_accept`; else any mild ->
sentiment 0.2, dwell ~ `dwell_mild`; else sentiment -0.6, dwell ~ `dwell_reject`, and the user
leaves with probability `leave_prob`. Repeating a rejected item costs 0.2 sentiment. Sentiment gets
N(0, sentiment_noise) and is clipped to [-1, 1]; dwell is the mean times exp(N(0, dwell_spread)).
The dialogue ends when the user leaves, after `max_turns` recommendations, or (with
`stop_on_accept`) at the first accept.

Every episode owns `numpy.random.default_rng([seed, user, index])`: the same seed, user and index
give the same dialogue for the same recommendations, whatever else runs. Counterfactual reactions
(`Episode.peek`) draw from their own generator and leave the episode untouched.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ctrlrec.crs.dialogue import Feedback, Turn
from ctrlrec.errors import CtrlrecError

ACCEPT, MILD, REJECT = "accept", "mild", "reject"
CLASSES = (ACCEPT, MILD, REJECT)


@dataclass
class SimConfig:
    k: int = 5  # items per recommendation turn
    max_turns: int = 5  # recommendation turns per dialogue (T)
    n_holdout: int = 5  # last items of a user's sequence held out as their future
    n_mentioned: int = 3  # recent history items named in the opening turn
    n_likes: int = 2  # liked categories (stated one per turn)
    n_dislikes: int = 1  # disliked categories
    noise: float = 0.05  # per item: probability its class is replaced by a uniformly random one
    sentiment_noise: float = 0.1  # std of the Gaussian added to the sentiment
    dwell_accept: float = 90.0  # mean dwell seconds after an accepted recommendation
    dwell_mild: float = 30.0  # ... after a mildly liked one
    dwell_reject: float = 6.0  # ... after a rejected one
    dwell_spread: float = 0.3  # std of the log-normal factor on dwell
    leave_prob: float = 0.3  # probability of leaving after a turn with nothing accepted or liked
    stop_on_accept: bool = False  # end the dialogue at the first accept
    eval_every: int = 4  # users with id % eval_every == 0 are evaluation users, the rest training

    def check(self) -> None:
        for name in ("k", "max_turns", "n_holdout", "eval_every"):
            if getattr(self, name) < 1:
                raise CtrlrecError(f"simulator {name} = {getattr(self, name)}: expected an integer >= 1")
        for name in ("noise", "leave_prob"):
            if not 0 <= getattr(self, name) <= 1:
                raise CtrlrecError(f"simulator {name} = {getattr(self, name)}: expected a value in [0, 1]")
        if min(self.sentiment_noise, self.dwell_spread, self.dwell_accept, self.dwell_mild,
               self.dwell_reject, self.n_mentioned, self.n_likes, self.n_dislikes) < 0:
            raise CtrlrecError("simulator noise, dwell and preference counts: expected values >= 0")

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class Episode:
    """One simulated dialogue in progress."""

    sim: UserSimulator
    user: int
    index: int
    history: list[int]
    heldout: list[int]
    likes: list[str]
    dislikes: list[str]
    rng: np.random.Generator
    turns: list[Turn] = field(default_factory=list)
    stated: list[tuple[str, str]] = field(default_factory=list)  # ("like"/"dislike", category)
    mentioned: list[int] = field(default_factory=list)
    accepted: list[int] = field(default_factory=list)
    rejected: list[int] = field(default_factory=list)
    n_rec: int = 0
    done: bool = False
    left: bool = False
    first_success: int | None = None  # 1-based recommendation turn of the first accept

    @property
    def stated_likes(self) -> list[str]:
        return [c for kind, c in self.stated if kind == "like"]

    @property
    def stated_dislikes(self) -> list[str]:
        return [c for kind, c in self.stated if kind == "dislike"]

    def remaining(self) -> list[int]:
        """Held-out items not yet accepted."""
        return [i for i in self.heldout if i not in self.accepted]

    def messages(self) -> list[dict]:
        from ctrlrec.crs.state import messages

        return messages(self.turns, self.sim.cfg.k)

    def react(self, text: str, items: list[int]) -> Feedback:
        """The user's reaction to a recommendation (its text and grounded ids, -1 = none): appends
        the recommender turn with its feedback and, unless the dialogue ends, the next user turn."""
        if self.done:
            raise CtrlrecError(f"episode {self.index} has ended; expected a live episode")
        fb, classes = self.sim.judge(self, items, self.rng)
        self.n_rec += 1
        self.turns.append(Turn("recommender", text, [i for i in items if i >= 0], fb))
        self.accepted += [i for i in fb.accepted_items if i not in self.accepted]
        self.rejected += [i for i in fb.rejected_items if i not in self.rejected]
        if fb.accepted and self.first_success is None:
            self.first_success = self.n_rec
        if not fb.went_on:
            self.left = True
        end = (not fb.went_on or self.n_rec >= self.sim.cfg.max_turns
               or (fb.accepted and self.sim.cfg.stop_on_accept))
        self.turns.append(Turn("user", self.sim.reply(self, fb, classes, items), []))
        self.done = end
        return fb

    def peek(self, text: str, items: list[int], alt: int) -> Turn:
        """A counterfactual recommender turn with the feedback it would get (the episode is unchanged)."""
        rng = np.random.default_rng([self.sim.seed, self.user, self.index, self.n_rec, 1 + alt])
        fb, _ = self.sim.judge(self, items, rng)
        return Turn("recommender", text, [i for i in items if i >= 0], fb)

    def meta(self) -> dict:
        return {"heldout": self.heldout, "likes": self.likes, "dislikes": self.dislikes,
                "stated": [list(s) for s in self.stated], "mentioned": self.mentioned,
                "history_len": len(self.history), "left": self.left, "first_success": self.first_success,
                "seed": self.sim.seed, "index": self.index}


class UserSimulator:
    """Simulated users of one dataset (a `ctrlrec.data.Dataset`)."""

    def __init__(self, ds, cfg: SimConfig | None = None, seed: int = 0):
        self.cfg = cfg or SimConfig()
        self.cfg.check()
        self.seed = int(seed)
        self.ds = ds
        self.titles = ds.catalog["title"].tolist()
        self.item_cats = [set(c) for c in ds.catalog["categories"]]
        self.categories = list(ds.categories)
        self.sequences = ds.sequences
        counts = {c: 0 for c in self.categories}
        for cats in self.item_cats:
            for c in cats:
                counts[c] = counts.get(c, 0) + 1
        n = max(len(self.item_cats), 1)
        self.base = {c: counts[c] / n for c in counts}

    # -- users ------------------------------------------------------------------------------------
    def users(self, part: str = "train") -> list[int]:
        """Users with enough history: 'eval' (id % eval_every == 0), 'train' (the others) or 'all'."""
        if part not in ("train", "eval", "all"):
            raise CtrlrecError(f"user part {part!r}: expected train, eval or all")
        need = self.cfg.n_holdout + max(self.cfg.n_mentioned, 1)
        e = self.cfg.eval_every
        ok = [u for u, s in enumerate(self.sequences) if len(s) >= need]
        if part == "eval":
            return [u for u in ok if u % e == 0]
        return ok if part == "all" else [u for u in ok if u % e != 0 or e == 1]

    def preferences(self, history: list[int], heldout: list[int]) -> tuple[list[str], list[str]]:
        cnt: dict[str, int] = {}
        for i in history:
            for c in self.item_cats[i]:
                cnt[c] = cnt.get(c, 0) + 1
        total = max(sum(cnt.values()), 1)
        lift = {c: (cnt.get(c, 0) / total) / self.base[c] for c in self.categories if self.base[c] > 0}
        order = sorted(cnt, key=lambda c: (-cnt[c], c))
        likes = [c for c in order if lift.get(c, 0) > 1][: self.cfg.n_likes] or order[: self.cfg.n_likes]
        future = set().union(*(self.item_cats[i] for i in heldout)) if heldout else set()
        pool = [c for c in self.categories if self.base.get(c, 0) >= 0.02 and c not in likes
                and c not in future]
        dislikes = sorted(pool, key=lambda c: (lift.get(c, 0), c))[: self.cfg.n_dislikes]
        return likes, dislikes

    def start(self, user: int, index: int = 0) -> Episode:
        """A fresh episode for `user` with its opening user turn."""
        seq = [int(i) for i in self.sequences[user]]
        h = self.cfg.n_holdout
        if len(seq) < h + 1:
            raise CtrlrecError(f"user {user} has {len(seq)} items; the simulator needs more than {h}")
        history, heldout = seq[:-h], seq[-h:]
        likes, dislikes = self.preferences(history, heldout)
        rng = np.random.default_rng([self.seed, user, index])
        ep = Episode(self, user, index, history, heldout, likes, dislikes, rng)
        ep.mentioned = history[-self.cfg.n_mentioned:] if self.cfg.n_mentioned else []
        names = "; ".join(f"'{self.titles[i]}'" for i in ep.mentioned)
        text = str(rng.choice(OPENINGS))
        if names:
            text += f" I recently enjoyed {names}."
        text += self._reveal(ep)
        ep.turns.append(Turn("user", text.strip(), list(ep.mentioned)))
        return ep

    def episodes(self, n: int, part: str = "train", offset: int = 0) -> list[Episode]:
        """`n` episodes over a seeded permutation of the part's users (cycled when n exceeds them)."""
        users = self.users(part)
        if not users:
            raise CtrlrecError(f"no {part} users with more than {self.cfg.n_holdout} interactions")
        perm = np.random.default_rng([self.seed, 7]).permutation(users)
        return [self.start(int(perm[(offset + j) % len(perm)]), offset + j) for j in range(n)]

    # -- reactions --------------------------------------------------------------------------------
    def classify(self, ep: Episode, item: int) -> str:
        if item < 0:
            return REJECT
        if item in ep.heldout and item not in ep.accepted:
            return ACCEPT
        cats = self.item_cats[item]
        seen = item in ep.history or item in ep.mentioned or item in ep.rejected or item in ep.accepted
        if not seen and cats & set(ep.likes) and not cats & set(ep.dislikes):
            return MILD
        return REJECT

    def judge(self, ep: Episode, items: list[int], rng: np.random.Generator) -> tuple[Feedback, list[str]]:
        cfg = self.cfg
        classes = []
        for i in items:
            c = self.classify(ep, i)
            if i >= 0 and cfg.noise and rng.random() < cfg.noise:
                c = CLASSES[int(rng.integers(3))]
            classes.append(c)
        acc = list(dict.fromkeys(i for i, c in zip(items, classes, strict=True) if c == ACCEPT))
        rej = list(dict.fromkeys(i for i, c in zip(items, classes, strict=True) if c == REJECT and i >= 0))
        if acc:
            sentiment, dwell, went_on = 0.8, cfg.dwell_accept, True
        elif MILD in classes:
            sentiment, dwell, went_on = 0.2, cfg.dwell_mild, True
        else:
            sentiment, dwell = -0.6, cfg.dwell_reject
            went_on = bool(rng.random() >= cfg.leave_prob)
        if any(i in ep.rejected for i in items if i >= 0):
            sentiment -= 0.2
        sentiment = float(np.clip(sentiment + rng.normal(0, cfg.sentiment_noise), -1, 1)) \
            if cfg.sentiment_noise else float(np.clip(sentiment, -1, 1))
        dwell = float(dwell * np.exp(rng.normal(0, cfg.dwell_spread))) if cfg.dwell_spread else float(dwell)
        return Feedback(bool(acc), round(sentiment, 4), round(dwell, 2), went_on, acc, rej), classes

    def _reveal(self, ep: Episode) -> str:
        """States the next preference (likes first, then dislikes alternating) as text, if any."""
        said = set(ep.stated)
        todo = [("like", c) for c in ep.likes[:1]]
        rest_l = [("like", c) for c in ep.likes[1:]]
        rest_d = [("dislike", c) for c in ep.dislikes]
        while rest_l or rest_d:
            if rest_l:
                todo.append(rest_l.pop(0))
            if rest_d:
                todo.append(rest_d.pop(0))
        for kind, c in todo:
            if (kind, c) not in said:
                ep.stated.append((kind, c))
                forms = LIKE if kind == "like" else DISLIKE
                return " " + str(ep.rng.choice(forms)).format(c=c)
        return ""

    def reply(self, ep: Episode, fb: Feedback, classes: list[str], items: list[int]) -> str:
        if fb.accepted:
            title = self.titles[fb.accepted_items[0]]
            text = str(ep.rng.choice(ACCEPTS)).format(t=title)
        elif MILD in classes:
            title = self.titles[items[classes.index(MILD)]]
            text = str(ep.rng.choice(MILDS)).format(t=title)
        else:
            text = str(ep.rng.choice(REJECTS))
        if not fb.went_on:
            return text + " " + str(ep.rng.choice(LEAVES))
        return (text + self._reveal(ep)).strip()


OPENINGS = ("Hi! I'm looking for something to watch.", "Hello, can you recommend me something?",
            "Hey, I need a few recommendations.", "Hi there, what should I watch next?")
LIKE = ("I like {c}.", "I'm into {c} these days.", "Something {c} would be nice.", "I enjoy {c} titles.")
DISLIKE = ("I'm not into {c}.", "Please, no {c}.", "I don't like {c}.", "Skip anything {c}.")
ACCEPTS = ("Great, I'll watch {t}!", "Oh, {t} looks perfect, thanks.", "{t}, yes, that's one for me.")
MILDS = ("{t} is close to what I like, but not quite.", "Hmm, {t} might do.", "{t} is okay, I guess.")
REJECTS = ("No, none of these appeal to me.", "Not really my taste.", "I don't want any of those.")
LEAVES = ("I'll look elsewhere, bye.", "Never mind, thanks anyway.", "I'm done for today.")
