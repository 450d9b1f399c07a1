"""Catalog-constrained and control-aware decoding: a logits processor over the title trie.

Three modes per row (request):
  free        the model alone; the processor leaves its logits untouched.
  catalog     every answer line is "j. <exact catalog title>", no title twice, none from the
              history, exactly k lines, then the end-of-turn token.
  guaranteed  catalog, and the structured intent narrows the titles as the list grows:
              I1- forbids C; I1+ / I3 allow only C while an unused C title remains; I2 keeps the
              count of C titles inside its bounds (forbid C once the upper bound is reached, force C
              once the remaining lines must all be C to reach the lower bound).
The model still picks which title (and which token inside a title) among the allowed ones, greedy
or sampled. Where an intent cannot be met (too few C titles left), the bounds that force C are
dropped first, then those that forbid C, so the list still has k lines.

Two per-row options refine the constrained modes (RowSpec):
  pool        catalog indexes a row may answer from (empty: the whole catalog). Its bitmap is and-ed
              into the row's available titles, so the rules above (distinct, outside the history,
              the intent) all work inside the pool; a pool that runs out ends the list early.
  guidance    with teacher scores of some items (guide_items, guide_scores): in a title, each
              allowed next token gets guidance * log(mass(child) / mass(node)) added to its logit,
              where mass sums the teacher weights w = softmax(guide_scores) of the row's allowed
              titles under a trie node (items the teacher did not score: 1e-6 x its smallest
              weight). Ending the title here is one more child, of mass w(title ending here). The
              bias summed over a title's tokens is guidance * log P_teacher(title | allowed titles),
              so guidance 1 with a flat model samples titles from the teacher's distribution
              (greedy picks the heaviest prefix step by step, not always the heaviest title).
              The weights and the bias live in `ctrlrec.llm.guidance`.

Per step the processor computes the allowed-token mask of the whole batch with tensor ops: the
children of each row's trie node are gathered (padded to the largest degree in the batch), and a
child is allowed when its title range holds a title the row may still use, counted with a prefix
sum over the row's allowed-title bitmap. That bitmap changes only when a title ends, so it and its
prefix sum (and, for guided rows, the float prefix sum of allowed teacher weights) are recomputed
only at those steps. Rows are never looped over in Python.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ctrlrec.errors import CtrlrecError
from ctrlrec.llm import guidance
from ctrlrec.llm.trie import TitleTrie, trie_for
from ctrlrec.scoring.catalog import Catalog
from ctrlrec.scoring.intents import KIND_CODE, WITH_PROPORTION, Intent, as_intents

MODES = ("free", "catalog", "guaranteed")
GLUE, TITLE, END = 0, 1, 2
I1P, I1M, I3 = KIND_CODE["I1+"], KIND_CODE["I1-"], KIND_CODE["I3"]
K_MAX = 100


def _indexes(name: str, value) -> tuple[int, ...]:
    out = tuple(value)
    if any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 0 for x in out):
        raise CtrlrecError(f"{name}: expected catalog indexes (non-negative integers)")
    return tuple(int(x) for x in out)


@dataclass(frozen=True)
class RowSpec:
    """What one row of a batch must produce. history, pool, guide_items: catalog indexes (not item
    ids). pool: the items the row may answer from (empty: all). guide_items / guide_scores: teacher
    scores (logits) of some items; guidance: the weight of their log-probability bias (0: none)."""

    k: int
    mode: str = "catalog"
    history: tuple[int, ...] = ()
    intents: tuple[Intent, ...] = ()
    pool: tuple[int, ...] = ()
    guide_items: tuple[int, ...] = ()
    guide_scores: tuple[float, ...] = ()
    guidance: float = 0.0

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise CtrlrecError(f"mode {self.mode!r}: expected one of {', '.join(MODES)}")
        if isinstance(self.k, bool) or not isinstance(self.k, int) or not 1 <= self.k <= K_MAX:
            raise CtrlrecError(f"k must be an integer in 1..{K_MAX} (got {self.k!r})")
        object.__setattr__(self, "intents", as_intents(self.intents) if self.intents else ())
        object.__setattr__(self, "pool", _indexes("pool", self.pool))
        object.__setattr__(self, "guide_items", _indexes("guide_items", self.guide_items))
        try:
            scores = tuple(float(x) for x in self.guide_scores)
            weight = float(self.guidance)
        except (TypeError, ValueError):
            raise CtrlrecError("guide_scores and guidance: expected numbers") from None
        if len(scores) != len(self.guide_items):
            raise CtrlrecError(f"guide_scores: expected one score per guide item "
                               f"({len(self.guide_items)}), got {len(scores)}")
        if not all(math.isfinite(x) for x in scores):
            raise CtrlrecError("guide_scores: expected finite numbers (no nan or inf)")
        if not (math.isfinite(weight) and weight >= 0):
            raise CtrlrecError(f"guidance: expected a finite number >= 0 (got {self.guidance!r})")
        object.__setattr__(self, "guide_scores", scores)
        object.__setattr__(self, "guidance", weight)

    @property
    def guided(self) -> bool:
        return self.mode != "free" and self.guidance > 0 and bool(self.guide_items)


def bounds(intent: Intent, k: int) -> tuple[int, int]:
    """The range [lo, hi] of C counts an I2 intent accepts (CPA rules of scoring), exactly."""
    km = intent.allowed(k)
    floor, ceil = km.numerator // km.denominator, -(-km.numerator // km.denominator)
    if intent.kind == "I2<=":
        return 0, floor
    if intent.kind == "I2>=":
        return ceil, k
    return max(0, ceil - 1), min(k, floor + 1)  # I2~: |count - km| <= 1


class CatalogDecoder:
    """The trie, category membership and list markers of one (tokenizer, catalog) pair.

    tagged: answer lines name each item in the grounded mode's tagged format (`[Comedy] 'Title'`,
    `ctrlrec.intents.tagged`), so the trie holds those strings instead of the bare titles."""

    def __init__(self, tok, catalog: Catalog, cache: bool = True, trie: TitleTrie | None = None,
                 tagged: bool = False):
        from ctrlrec.intents import tagged as tag_line

        self.catalog, self.tagged = catalog, tagged
        lines = [tag_line(t, c) for t, c in zip(catalog.titles, catalog.categories, strict=True)] \
            if tagged else catalog.titles
        self.trie = trie or trie_for(tok, lines, cache=cache)
        t = self.trie
        self.eos = int(tok.eos_token_id)
        # catalog index -> sorted title; an item whose title repeats an earlier one maps to that
        # one's entry (grounding gives the title to the earlier item), -1 if it has no entry at all
        first = np.full(len(catalog), -1, dtype=np.int64)
        first[t.order] = np.arange(t.n_titles)
        same = np.array([catalog.exact.get(x, i) for i, x in enumerate(catalog.titles)], dtype=np.int64)
        self.inv = np.where(first >= 0, first, first[same])
        n_cat = max(len(catalog.category_names), 1)
        self.member = catalog.in_category(t.order[None, :], np.arange(n_cat)[:, None]) \
            if catalog.category_names else np.zeros((1, t.n_titles), dtype=bool)
        glue = [tok("1." if j == 0 else f"\n{j + 1}.", add_special_tokens=False)["input_ids"]
                for j in range(K_MAX)]
        for j, g in enumerate(glue):
            text = "1." if j == 0 else f"\n{j + 1}."
            if not g or tok.decode(g) != text:
                raise CtrlrecError(f"tokenizer: the list marker {text!r} does not round-trip")
        starts = {g[0] for g in glue[1:]} | {self.eos}
        if starts & t.tokens():
            raise CtrlrecError("tokenizer: a title token also starts a list marker; cannot decode")
        self.glue_len = np.array([len(g) for g in glue], dtype=np.int64)
        self.glue = np.full((K_MAX + 1, int(self.glue_len.max())), self.eos, dtype=np.int64)
        for j, g in enumerate(glue):
            self.glue[j, : len(g)] = g
        self._tensors: dict = {}

    def max_new_tokens(self, k: int) -> int:
        """Enough tokens for k lines of the longest title plus the end of turn."""
        return int(self.glue_len[:k].sum() + k * (int(self.trie.lengths.max()) + 1) + 1)

    def tensors(self, device) -> dict:
        key = str(device)
        if key not in self._tensors:
            import torch

            t = self.trie
            arrays = dict(node_tok=t.node_tok, node_lo=t.node_lo, node_hi=t.node_hi,
                          node_term=t.node_term, child_ptr=t.child_ptr, glue=self.glue,
                          glue_len=self.glue_len)
            out = {name: torch.as_tensor(a, device=device) for name, a in arrays.items()}
            out["member"] = torch.as_tensor(self.member, device=device)
            self._tensors[key] = out
        return self._tensors[key]

    def processor(self, specs: list[RowSpec]) -> ConstrainedLogits:
        return ConstrainedLogits(self, specs)

    def factory(self, specs: list[RowSpec]):
        """For `generate(..., processors=...)`: the processor of a batch of prompt indices."""
        def make(indices: list[int]):
            rows = [specs[i] for i in indices]
            if all(r.mode == "free" for r in rows):
                return None
            return self.processor(rows)
        return make

    def positions(self, name: str, items: tuple[int, ...]) -> np.ndarray:
        """Sorted-title positions of catalog indexes (-1: the item has no title in the trie)."""
        if items and max(items) >= len(self.inv):
            raise CtrlrecError(f"{name}: catalog index {max(items)} out of range 0..{len(self.inv) - 1}")
        return self.inv[np.asarray(items, dtype=np.int64)] if items else np.empty(0, np.int64)

    def title_weights(self, spec: RowSpec) -> np.ndarray:
        """The teacher's weight of each sorted title for a guided row (`guidance.title_weights`)."""
        pos = self.positions("guide_items", spec.guide_items)
        return guidance.title_weights(self.trie.n_titles, pos, spec.guide_scores)

    def row_arrays(self, specs: list[RowSpec]) -> dict[str, np.ndarray]:
        """Per-row numpy state inputs: k, mode flags, history and pool bitmaps, intent parts, and
        for a batch with a guided row the guidance weights and teacher title weights."""
        b, p = len(specs), max([len(s.intents) for s in specs] + [1])
        hist = np.zeros((b, self.trie.n_titles), dtype=bool)
        pool = np.ones((b, self.trie.n_titles), dtype=bool)
        kind = np.full((b, p), -1, dtype=np.int64)
        cat = np.zeros((b, p), dtype=np.int64)
        lo = np.zeros((b, p), dtype=np.int64)
        hi = np.full((b, p), K_MAX, dtype=np.int64)
        for r, s in enumerate(specs):  # once per batch, not per step
            h = self.inv[np.asarray(s.history, dtype=np.int64)] if s.history else np.empty(0, np.int64)
            hist[r, h[h >= 0]] = True
            if s.pool:
                q = self.positions("pool", s.pool)
                pool[r] = False
                pool[r, q[q >= 0]] = True
            if s.mode == "guaranteed":
                self.check_plannable(s.intents)
            for j, it in enumerate(s.intents):
                if it.kind == "I0":
                    continue
                kind[r, j] = KIND_CODE[it.kind]
                cat[r, j] = self.catalog.category(it.category)
                if it.kind in WITH_PROPORTION:
                    lo[r, j], hi[r, j] = bounds(it, s.k)
        out = dict(k=np.array([s.k for s in specs], dtype=np.int64),
                   free=np.array([s.mode == "free" for s in specs]),
                   guaranteed=np.array([s.mode == "guaranteed" for s in specs]),
                   hist=hist, pool=pool, kind=kind, cat=cat, lo=lo, hi=hi)
        if any(s.guided for s in specs):
            out["guide"] = np.array([s.guidance if s.guided else 0.0 for s in specs])
            out["weight"] = np.stack([self.title_weights(s) if s.guided else np.ones(self.trie.n_titles)
                                      for s in specs])
        return out


    def check_plannable(self, intents) -> None:
        """Guaranteed decoding plans each proportion part's counts alone: two parts on different
        categories that share items can drive it into a dead end although the request is satisfiable,
        so that combination is refused with one message instead of answered wrongly."""
        parts = [it for it in intents if it.kind in WITH_PROPORTION]
        every = np.arange(len(self.catalog.titles))
        for a in range(len(parts)):
            for b in range(a + 1, len(parts)):
                ca, cb = parts[a].category, parts[b].category
                if ca == cb:
                    continue
                both = self.catalog.in_category(every, self.catalog.category(ca)) & \
                    self.catalog.in_category(every, self.catalog.category(cb))
                if both.any():
                    raise CtrlrecError(
                        f"intent: proportion parts on {ca!r} and {cb!r} share {int(both.sum())} items, "
                        "which guaranteed decoding cannot plan jointly; expected at most one proportion "
                        "part per list of overlapping categories (or mode 'catalog', which scores it)")


class ConstrainedLogits:
    """A transformers logits processor for one batch (rows in the order `generate` feeds them).

    Greedy and sampled decoding with one sequence per prompt (no beam search: beams reorder rows).
    Additive: what it returns is the logits plus -inf on forbidden tokens plus its own bias, so
    jump-forward decoding (ctrlrec.llm.jump) may ask it once with zero logits.
    """

    additive = True

    def __init__(self, decoder: CatalogDecoder, specs: list[RowSpec]):
        self.d = decoder
        self.specs = specs
        self.rows = decoder.row_arrays(specs)
        self.started = False

    # -- state ----------------------------------------------------------------------------------
    def _start(self, device) -> None:
        import torch

        self.t = self.d.tensors(device)
        r = {name: torch.as_tensor(a, device=device) for name, a in self.rows.items()}
        self.r = r
        b = len(self.specs)
        self.phase = torch.where(r["free"], END, GLUE).to(device)
        self.line = torch.zeros(b, dtype=torch.long, device=device)
        self.off = torch.zeros(b, dtype=torch.long, device=device)
        self.node = torch.zeros(b, dtype=torch.long, device=device)
        self.used = torch.zeros_like(r["hist"])
        self.count = torch.zeros_like(r["kind"])
        self.is_i2 = torch.zeros_like(r["kind"], dtype=torch.bool)
        for name in WITH_PROPORTION:
            self.is_i2 |= r["kind"] == KIND_CODE[name]
        self.started = True
        self._refresh()

    def _refresh(self) -> None:
        """Recompute each row's allowed titles (and their prefix sums) after a title ended."""
        import torch

        r, member = self.r, self.t["member"]
        avail = ~self.used & ~r["hist"] & r["pool"]
        allowed = avail
        if bool(r["guaranteed"].any()):
            act = (r["kind"] >= 0) & r["guaranteed"][:, None]  # [B, P]
            in_c = member[r["cat"]]  # [B, P, N]
            rem = (r["k"] - self.line)[:, None]
            i2 = act & self.is_i2
            forbid = act & ((r["kind"] == I1M) | (i2 & (self.count >= r["hi"])))
            prefer = act & ((r["kind"] == I1P) | (r["kind"] == I3)) & (avail[:, None, :] & in_c).any(2)
            force = (i2 & (rem <= r["lo"] - self.count)) | prefer
            keep_forbid = ~(forbid[:, :, None] & in_c)
            soft = avail & keep_forbid.all(1)
            strict = soft & (~(force[:, :, None] & ~in_c)).all(1)
            allowed = torch.where(strict.any(1, keepdim=True), strict,
                                  torch.where(soft.any(1, keepdim=True), soft, avail))
        self.allowed = allowed
        zero = torch.zeros((allowed.shape[0], 1), dtype=torch.int32, device=allowed.device)
        self.cum = torch.cat([zero, allowed.cumsum(1, dtype=torch.int32)], 1)
        if "guide" in r:  # the same prefix sum over the allowed titles' teacher weights
            self.wa, self.cumw = guidance.prefix(allowed, r["weight"])
        # a row with lines still to write but no title left stops here (its marker is not written)
        stuck = (self.phase != END) & ~allowed.any(1)
        self.phase = torch.where(stuck, END, self.phase)

    def _advance(self, last) -> None:
        """Move every row's state over the token it just emitted."""
        import torch

        t, r = self.t, self.r
        glue = self.phase == GLUE
        off = torch.where(glue, self.off + 1, self.off)
        glue_done = glue & (off >= t["glue_len"][self.line.clamp(max=K_MAX)])
        title = self.phase == TITLE
        ended = title & (last == self._term_tok)
        node = self.node
        if self._cid.shape[1]:
            match = self._ctok == last[:, None]
            child = self._cid.gather(1, match.to(torch.long).argmax(1, keepdim=True)).squeeze(1)
            node = torch.where(title & ~ended & match.any(1), child, node)
        phase = torch.where(glue_done, TITLE, self.phase)
        node = torch.where(glue_done, 0, node)
        any_ended = bool(ended.any())
        if any_ended:
            item = t["node_term"][self.node].clamp(min=0)  # the title that just ended
            hit = torch.zeros_like(self.used)
            hit.scatter_(1, item[:, None], ended[:, None])
            self.used |= hit
            in_c = t["member"][r["cat"], item[:, None].expand_as(r["cat"])] & (r["kind"] >= 0)
            self.count += (in_c & ended[:, None]).to(self.count.dtype)
            line = self.line + ended.to(torch.long)
            finished = ended & (line >= r["k"])
            more = ended & ~finished
            # the first marker token was just emitted as the title's end; the rest follows
            off = torch.where(more, 1, off)
            straight = more & (off >= t["glue_len"][line.clamp(max=K_MAX)])
            phase = torch.where(finished, END, torch.where(more, GLUE, phase))
            phase = torch.where(straight, TITLE, phase)
            node = torch.where(straight, 0, node)
            self.line = line
        self.off, self.node, self.phase = off, node, phase
        if any_ended:
            self._refresh()

    # -- the mask -----------------------------------------------------------------------------
    def __call__(self, input_ids, scores):
        import torch

        if not self.started:
            self._start(scores.device)
        else:
            self._advance(input_ids[:, -1])
        t, r = self.t, self.r
        b, vocab = scores.shape
        title = self.phase == TITLE
        node = torch.where(title, self.node, 0)
        start = t["child_ptr"][node]
        deg = torch.where(title, t["child_ptr"][node + 1] - start, 0)
        width = int(deg.max()) if b else 0
        ar = torch.arange(width, device=scores.device)
        valid = ar[None, :] < deg[:, None]
        cid = torch.where(valid, start[:, None] + ar[None, :], 0)
        has_title = (self.cum.gather(1, t["node_hi"][cid]) - self.cum.gather(1, t["node_lo"][cid])) > 0
        ok = valid & has_title
        ctok = torch.where(ok, t["node_tok"][cid], vocab)  # column `vocab` is a dummy, cut below
        term = t["node_term"][node]
        term_ok = title & (term >= 0) & self.allowed.gather(1, term.clamp(min=0)[:, None]).squeeze(1)
        nxt = self.line + 1
        next_marker = t["glue"][nxt.clamp(max=K_MAX), 0]
        term_tok = torch.where(nxt < r["k"], next_marker, self.d.eos)
        self._term_tok = torch.where(term_ok, term_tok, -1)
        glue_tok = t["glue"][self.line.clamp(max=K_MAX), self.off.clamp(max=t["glue"].shape[1] - 1)]
        extra = torch.where(self.phase == GLUE, glue_tok,
                            torch.where(self.phase == END, self.d.eos,
                                        torch.where(term_ok, term_tok, vocab)))
        mask = torch.zeros((b, vocab + 1), dtype=torch.bool, device=scores.device)
        mask.scatter_(1, torch.cat([ctok, extra[:, None]], 1), True)
        mask = mask[:, :vocab]
        mask |= r["free"][:, None]
        self._cid, self._ctok = cid, ctok
        scores = scores.masked_fill(~mask, float("-inf"))
        if "guide" in r:
            g = torch.where(title, r["guide"], 0.0)
            bias = guidance.bias(g, r["weight"], self.wa, self.cumw, t["node_lo"][cid], t["node_hi"][cid],
                                 ok, ctok, term, term_ok, term_tok, vocab)
            scores = scores + bias.to(scores.dtype)
        return scores


def decode(model, tok, decoder: CatalogDecoder, prompts: list, specs: list[RowSpec], cfg=None,
           progress: bool = False) -> list[str]:
    """`generate` with each prompt's RowSpec; max_new_tokens is raised to fit the longest k."""
    from dataclasses import replace

    from ctrlrec.llm.generate import GenerationConfig, generate

    if len(prompts) != len(specs):
        raise CtrlrecError("decode: expected one RowSpec per prompt")
    cfg = cfg or GenerationConfig()
    constrained = [s.k for s in specs if s.mode != "free"]
    if constrained:
        cfg = replace(cfg, max_new_tokens=max(cfg.max_new_tokens, decoder.max_new_tokens(max(constrained))))
    return generate(model, tok, prompts, cfg, progress=progress, processors=decoder.factory(specs))
