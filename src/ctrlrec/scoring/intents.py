"""Instruction kinds (spec §1): the `Intent` type, its validation, and exact k*m arithmetic."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction

from ctrlrec.errors import CtrlrecError

KINDS = ("I0", "I1+", "I1-", "I2<=", "I2~", "I2>=", "I3")
"""The intent codes of spec §1, in a fixed order; `KIND_CODE[kind]` is the integer used in arrays."""
KIND_CODE = {kind: i for i, kind in enumerate(KINDS)}
WITH_CATEGORY = frozenset({"I1+", "I1-", "I2<=", "I2~", "I2>=", "I3"})
WITH_PROPORTION = frozenset({"I2<=", "I2~", "I2>="})
K_MIN, K_MAX = 1, 100


@dataclass(frozen=True)
class Intent:
    """One instruction: a kind, and its category C and proportion m where the kind takes them.

    `proportion` is kept as given; `share` is its exact rational value (the decimal the user wrote,
    so 0.3 is 3/10 and 10 * 0.3 is exactly 3), which spec §7 needs for comparisons with k*m.
    """

    kind: str
    category: str | None = None
    proportion: float | None = None
    share: Fraction = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.kind not in KIND_CODE:
            raise CtrlrecError(f"intent kind {self.kind!r} is unknown; expected one of {', '.join(KINDS)}")
        if self.kind in WITH_CATEGORY:
            if not isinstance(self.category, str) or not self.category:
                raise CtrlrecError(f"intent {self.kind} needs a category (a non-empty string)")
        elif self.category is not None:
            raise CtrlrecError(f"intent {self.kind} takes no category (got {self.category!r})")
        share = Fraction(0)
        if self.kind in WITH_PROPORTION:
            share = _exact_share(self.kind, self.proportion)
        elif self.proportion is not None:
            raise CtrlrecError(f"intent {self.kind} takes no proportion (got {self.proportion!r})")
        object.__setattr__(self, "share", share)

    def allowed(self, k: int) -> Fraction:
        """k*m, exactly."""
        return k * self.share

    def to_json(self) -> dict:
        out: dict = {"kind": self.kind}
        if self.category is not None:
            out["category"] = self.category
        if self.proportion is not None:
            out["proportion"] = self.proportion
        return out


def _exact_share(kind: str, m) -> Fraction:
    if isinstance(m, bool) or not isinstance(m, (int, float, Fraction)):
        raise CtrlrecError(f"intent {kind} needs a proportion, a number in [0, 1] (got {m!r})")
    if isinstance(m, float) and not math.isfinite(m):
        raise CtrlrecError(f"intent {kind}: proportion must be a number in [0, 1] (got {m!r})")
    # repr() of a float is the shortest decimal that reads back as it: the number as written.
    exact = Fraction(repr(m)) if isinstance(m, float) else Fraction(m)
    if not 0 <= exact <= 1:
        raise CtrlrecError(f"intent {kind}: proportion must be in [0, 1] (got {m!r})")
    return exact


def check_k(k) -> int:
    """k as an int in 1..100, else a CtrlrecError naming what was expected."""
    if isinstance(k, bool) or not isinstance(k, int) or not K_MIN <= k <= K_MAX:
        raise CtrlrecError(f"k must be an integer in {K_MIN}..{K_MAX} (got {k!r})")
    return k


def as_intents(intent) -> tuple[Intent, ...]:
    """One intent, a kind string, or a non-empty sequence of them (a combined instruction)."""
    if isinstance(intent, (Intent, str)):
        intent = [intent]
    parts = tuple(Intent(x) if isinstance(x, str) else x for x in intent)
    if not parts or not all(isinstance(p, Intent) for p in parts):
        raise CtrlrecError("intent must be an Intent, a kind string, or a non-empty list of them")
    return parts


def intent_from_json(obj) -> Intent:
    """An intent from the case file's `{"kind", "category", "proportion"}` object."""
    if not isinstance(obj, dict):
        raise CtrlrecError(f"intent must be an object with a 'kind' (got {obj!r})")
    if "kind" not in obj:
        raise CtrlrecError("intent is missing the field 'kind'")
    extra = set(obj) - {"kind", "category", "proportion"}
    if extra:
        raise CtrlrecError(f"intent has unknown fields {sorted(extra)}; expected kind, category, proportion")
    return Intent(obj["kind"], obj.get("category"), obj.get("proportion"))


def kind_label(intents: tuple[Intent, ...]) -> str:
    """The kind of a (possibly combined) instruction, e.g. "I1+" or "I1+&I1-"."""
    return "&".join(p.kind for p in intents)
