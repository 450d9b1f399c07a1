"""Shape-constrained decoding: every generated profile has the fixed shape of `shape.py`.

A small model rarely keeps "User identity: A, B, C; User interests: X, Y, Z" on its own (SmolLM2-135M
after a short tuning writes numbered genre lists that never reach "User interests"). This logits
processor makes the shape a property of decoding, not of training:

  head       forced: the row's own head (e.g. "User 12: ") and "User identity:"
  phrase     the model's tokens, none holding a separator or bracket (`, ; : ( ) [ ] { }`, a line
             break), at most `phrase_tokens` of them; the phrase ends when the model picks the
             first token of what follows ("," after phrases 1, 2, 4, 5; ";" of "; User interests:"
             after 3; after 6 the next head's line break, or the end of turn). That token is allowed
             only once the phrase has a letter and differs from the earlier phrases on its side,
             and it is forced once the phrase reaches `phrase_tokens`.
  literal    the rest of what follows, forced token by token.

The model still chooses every word and where each phrase ends; only the glue is fixed. Greedy or
sampled, one sequence per prompt (no beams). Rows are advanced in a short Python loop per step (a
batch is at most a few dozen rows; the forward pass dominates).
"""

from __future__ import annotations

from collections.abc import Sequence

from ctrlrec.errors import CtrlrecError
from ctrlrec.profiles import shape

BREAKS = set(",;:()[]{}\n\r")
IDENTITY, INTERESTS = "User identity:", "; User interests:"


def heads(users, kind: str = "single", neighbours=None) -> list[list[str]]:
    """The profile heads of each user's answer: `[""]` for the single-round prompt; for the
    collaborative prompt `"User u: "`, then `"User n: "` per neighbour when `neighbours` (per user)
    is given (the whole round-1 answer) and the user's own line alone when not (a build keeps only
    that line)."""
    if kind == "single":
        return [[""] for _ in users]
    return [[f"User {v}: " for v in [u, *(neighbours[u] if neighbours is not None else [])]]
            for u in users]


class ShapeDecoder:
    """The token classes of one tokenizer: which tokens may appear inside a phrase."""

    def __init__(self, tok, end_ids: Sequence[int], phrase_tokens: int = 8):
        import torch

        if phrase_tokens < 1:
            raise CtrlrecError(f"phrase_tokens = {phrase_tokens}: expected a positive integer")
        self.tok, self.end = tok, int(end_ids[0])
        self.phrase_tokens = phrase_tokens
        n = len(tok)
        texts = tok.batch_decode([[i] for i in range(n)], skip_special_tokens=False)
        special = set(getattr(tok, "all_special_ids", [])) | {int(e) for e in end_ids}
        ok = [i not in special and t.strip() != "" and "\ufffd" not in t and not (BREAKS & set(t))
              for i, t in enumerate(texts)]
        self.phrase_ok = torch.tensor(ok, dtype=torch.bool)
        self.comma = self.literal(",")
        self.interests = self.literal(INTERESTS)

    def literal(self, text: str, after_phrase: bool = True) -> list[int]:
        """The tokens of fixed text; one that follows a phrase must not start with a phrase token
        (its first token is how the model ends the phrase)."""
        ids = self.tok(text, add_special_tokens=False)["input_ids"]
        if not ids or self.tok.decode(ids) != text:
            raise CtrlrecError(f"tokenizer: the profile glue {text!r} does not round-trip")
        if after_phrase and bool(self.phrase_ok[ids[0]]):
            raise CtrlrecError(f"tokenizer: the glue {text!r} starts with a phrase token")
        return ids

    def plan(self, row: Sequence[str]) -> list[list[int]]:
        """The literals of one row: row[j] + "User identity:" opens profile j; after the last
        profile, the end of turn."""
        if not row:
            raise CtrlrecError("shape-constrained decoding: expected at least one profile head per row")
        out = []
        for j, h in enumerate(row):
            out.append(self.literal(("\n" if j else "") + h + IDENTITY, after_phrase=j > 0))
            out += [self.comma, self.comma, self.interests, self.comma, self.comma]
        return out + [[self.end]]

    def budget(self, row: Sequence[str]) -> int:
        """New tokens that always suffice for a row with these heads."""
        return sum(len(x) for x in self.plan(row)) + 6 * len(row) * self.phrase_tokens

    def processor(self, rows: Sequence[Sequence[str]]) -> ShapeLogits:
        return ShapeLogits(self, [self.plan(h) for h in rows])


class ShapeLogits:
    """The logits processor of one batch; `plans[r]` is row r's literals (`ShapeDecoder.plan`).

    Phrase i lies between literal i and literal i + 1. A row is forcing literal `lit[r]` at token
    `pos[r]`, or (pos None) writing phrase `lit[r]`, or done.
    """

    def __init__(self, d: ShapeDecoder, plans: list[list[list[int]]]):
        self.d, self.plans = d, plans
        b = len(plans)
        self.lit = [0] * b
        self.pos: list[int | None] = [0] * b
        self.done = [False] * b
        self.phrase: list[list[int]] = [[] for _ in range(b)]
        self.side: list[list[str]] = [[] for _ in range(b)]  # earlier phrases on the current side
        self.started = False

    def _phrase(self, r: int) -> str | None:
        """The current phrase as `shape.parse` will read it (None: no single phrase)."""
        return shape.single_phrase(self.d.tok.decode(self.phrase[r]))

    def _emitted(self, r: int) -> None:
        """One more token of the current literal was emitted."""
        i, plan = self.lit[r], self.plans[r]
        self.pos[r] += 1
        if self.pos[r] == len(plan[i]):
            if i == len(plan) - 1:
                self.done[r] = True
            else:
                self.pos[r] = None  # phrase i begins

    def _advance(self, r: int, t: int) -> None:
        if self.done[r]:
            return
        if self.pos[r] is not None:
            self._emitted(r)
            return
        i = self.lit[r]
        if t != self.plans[r][i + 1][0]:
            self.phrase[r].append(t)
            return
        self.side[r] = [] if i % 6 in (2, 5) else [*self.side[r], (self._phrase(r) or "").lower()]
        self.phrase[r] = []
        self.lit[r], self.pos[r] = i + 1, 0
        self._emitted(r)

    def __call__(self, input_ids, scores):
        import torch

        if self.started:
            for r, t in enumerate(input_ids[:, -1].tolist()):
                self._advance(r, int(t))
        self.started = True
        allowed = torch.zeros_like(scores, dtype=torch.bool)
        ok = self.d.phrase_ok.to(scores.device)
        v = min(ok.shape[0], scores.shape[1])
        for r, plan in enumerate(self.plans):
            if self.done[r]:
                allowed[r] = True
                continue
            i, pos = self.lit[r], self.pos[r]
            if pos is not None:
                allowed[r, plan[i][pos]] = True
                continue
            n = len(self.phrase[r])
            if n < self.d.phrase_tokens:
                allowed[r, :v] = ok[:v]
            if n >= self.d.phrase_tokens or (n and self._may_end(r)):
                allowed[r, plan[i + 1][0]] = True
        return scores.masked_fill(~allowed, float("-inf"))

    def _may_end(self, r: int) -> bool:
        """A phrase may end once it reads as one phrase that `shape` accepts (a letter, no
        placeholder) and does not repeat an earlier one on its side."""
        p = self._phrase(r)
        return p is not None and shape.phrase_ok(p) and p.lower() not in self.side[r]
