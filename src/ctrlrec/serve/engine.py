"""The recommender behind the service: requests in, scored item lists out, no HTTP in sight.

`prepare` validates a request against the dataset (user, history, categories, caps) and builds the
prompt with the same wording as the training data; `run` decodes a batch of prepared jobs in one
call and scores every answer with `ctrlrec.scoring`, which also says which instruction part each
item satisfies. Free text is only ever a chat message's content: it is stripped of the tokenizer's
special-token strings (so it cannot close the user turn) and of control characters.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass

from ctrlrec import intents as wording
from ctrlrec.errors import CtrlrecError
from ctrlrec.llm.decoding import CatalogDecoder, RowSpec
from ctrlrec.scoring import Case, Catalog, Intent, score_batch
from ctrlrec.scoring.intents import intent_from_json
from ctrlrec.serve.config import ServeConfig

_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


class NotFound(CtrlrecError):
    """A user or item the dataset does not have (HTTP 404)."""


@dataclass
class Job:
    """One validated request, ready to decode."""

    messages: list[dict]
    spec: RowSpec
    history: list[int]  # catalog indexes, oldest first
    user_id: int | None


class Recommender:
    def __init__(self, dataset, model, tok, cfg: ServeConfig, backend=None, decoder=None, retriever=None):
        self.ds, self.model, self.tok, self.cfg = dataset, model, tok, cfg
        self.retriever = retriever  # ctrlrec.serve.grounding.Retriever in the grounded mode
        self.catalog = Catalog.from_frame(dataset.catalog)
        if not self.catalog.dense:
            raise CtrlrecError("serve: expected a prepared dataset (item ids 0..n-1)")
        tagged = retriever is not None and retriever.pool.tagged  # the model answers "[Comedy] 'Title'"
        self.decoder = decoder or CatalogDecoder(tok, self.catalog, cache=cfg.trie_cache, tagged=tagged)
        self.categories = list(dataset.categories)
        self.item_categories = [list(c) for c in dataset.catalog["categories"]]
        self._lower = [t.lower() for t in self.catalog.titles]
        specials = {s for s in getattr(tok, "all_special_tokens", []) if s}
        self._specials = sorted(specials, key=len, reverse=True)
        self.backend = backend or TransformersBackend(self)

    @classmethod
    def load(cls, cfg: ServeConfig) -> Recommender:
        from ctrlrec.data import load
        from ctrlrec.llm.device import choose
        from ctrlrec.llm.models import load_any

        ds = load(cfg.dataset)
        if cfg.backend == "vllm":
            from ctrlrec.serve.vllm_backend import VllmBackend

            backend = VllmBackend(cfg)
            return cls(ds, None, backend.tokenizer, cfg, backend=backend)
        if cfg.backend != "transformers":
            raise CtrlrecError(f"backend {cfg.backend!r}: expected transformers or vllm")
        if cfg.threads:
            import torch

            torch.set_num_threads(cfg.threads)
        from ctrlrec.serve.grounding import Retriever, resolve

        pool, teacher = resolve(cfg.model, cfg.pool_mode, cfg.teacher)
        retriever = Retriever.load(ds, teacher, pool) if pool.grounded else None
        model, tok = load_any(cfg.model, choose(cfg.device, cfg.precision, inference=True))
        return cls(ds, model, tok, cfg, retriever=retriever)

    # -- look-ups -----------------------------------------------------------------------------------
    def item(self, i: int) -> dict:
        return {"item_id": int(self.catalog.ids[i]), "title": self.catalog.titles[i],
                "categories": self.item_categories[i]}

    def search(self, q: str, limit: int) -> list[dict]:
        """Titles containing `q` (case-insensitive), those starting with it first."""
        q = q.strip().lower()
        if not q:
            return []
        starts = [i for i, t in enumerate(self._lower) if t.startswith(q)]
        inner = [i for i, t in enumerate(self._lower) if q in t and not t.startswith(q)]
        return [self.item(i) for i in (starts + inner)[:limit]]

    def user_history(self, user_id: int) -> list[int]:
        if not 0 <= user_id < self.ds.n_users:
            raise NotFound(f"user {user_id} is unknown; expected an id in 0..{self.ds.n_users - 1}")
        return [int(i) for i in self.ds.sequences[user_id]]

    def clean_text(self, text: str) -> str:
        for s in self._specials:
            text = text.replace(s, " ")
        return " ".join(_CONTROL.sub(" ", text).split())

    # -- requests -----------------------------------------------------------------------------------
    def prepare(self, user_id=None, history=None, intent=None, text: str = "", k: int = 10,
                mode: str | None = None) -> Job:
        cfg = self.cfg
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= cfg.k_max:
            raise CtrlrecError(f"k must be an integer in 1..{cfg.k_max} (got {k!r})")
        mode = mode or cfg.default_mode
        if mode != "free" and not getattr(self.backend, "constrained", True):
            raise CtrlrecError(f"mode {mode!r}: the {cfg.backend} backend only decodes in mode 'free'")
        if len(text) > cfg.text_max:
            raise CtrlrecError(f"text has {len(text)} characters; expected at most {cfg.text_max}")
        hist: list[int] = []
        if user_id is not None:
            hist = self.user_history(user_id)
        if history:
            if len(history) > cfg.history_max:
                raise CtrlrecError(f"history has {len(history)} items; expected at most {cfg.history_max}")
            hist = hist + [self.catalog.ground_input(h, "history item") for h in history]
        parts = self.intents(intent)
        if mode == "guaranteed" and self.decoder is not None:
            self.decoder.check_plannable(parts)  # refused here, per request, not inside a batch
        rng = random.Random(f"{k}|{[p.to_json() for p in parts]}")  # same request, same wording
        control = wording.render_intents(parts, k, rng) if parts else ""
        said = " ".join(x for x in (control, self.clean_text(text)) if x)
        shown = [wording.shorten(self.catalog.titles[i]) for i in hist[-cfg.prompt_history:]] \
            if cfg.prompt_history else []
        if self.retriever is None:
            spec = RowSpec(k, mode, tuple(dict.fromkeys(hist)), parts)
            return Job(wording.messages(wording.user_prompt(k, shown, said)), spec, hist, user_id)
        (pool,) = self.retriever.pools([hist])  # the teacher's candidates for this history
        pcfg = self.retriever.pool
        cats = [self.item_categories[i] for i in pool.items] if pcfg.show_categories else None
        shown = shown[len(shown) - pcfg.history:] if pcfg.history else []
        user = wording.grounded_prompt(k, shown, said, [self.catalog.titles[i] for i in pool.items], cats,
                                       ranked=pcfg.order == "teacher",
                                       instruction_first=pcfg.instruction == "before")
        guided = cfg.guidance > 0 and mode != "free"
        spec = RowSpec(k, mode, tuple(dict.fromkeys(hist)), parts, pool=tuple(pool.items),
                       guide_items=tuple(pool.items) if guided else (),
                       guide_scores=tuple(pool.scores) if guided else (),
                       guidance=cfg.guidance if guided else 0.0)
        return Job(wording.messages(user), spec, hist, user_id)

    def intents(self, intent) -> tuple[Intent, ...]:
        """Structured intent parts (one object or a list of them); categories must exist."""
        if intent is None:
            return ()
        raw = intent if isinstance(intent, list) else [intent]
        if len(raw) > 4:
            raise CtrlrecError(f"intent has {len(raw)} parts; expected at most 4")
        parts = tuple(intent_from_json(x) for x in raw)
        for p in parts:
            if p.category is not None:
                self.catalog.category(p.category)  # raises with the known ones listed
        return tuple(p for p in parts if p.kind != "I0")

    def run(self, jobs: list[Job]) -> list[dict]:
        """Decode a batch of jobs together and score each answer."""
        texts = self.backend.generate(jobs)
        cases = [Case(t, j.spec.k, j.spec.intents or "I0", j.history)
                 for t, j in zip(texts, jobs, strict=True)]
        scores = score_batch(self.catalog, cases)
        return [self._answer(j, t, scores[i]) for i, (j, t) in enumerate(zip(jobs, texts, strict=True))]

    def _answer(self, job: Job, text: str, res) -> dict:
        parts = job.spec.intents
        part_metrics = res.metrics.get("parts") or [{"TCP": res.metrics["TCP"], "CPA": res.metrics["CPA"]}]
        items = []
        for pos, (idx, raw) in enumerate(zip(res.item_ids, res.titles, strict=True)):
            cats = self.item_categories[idx] if idx is not None else []
            sat = []
            for p, pm in zip(parts, part_metrics, strict=False):
                in_c = p.category in cats
                if p.kind in ("I1+", "I3"):
                    sat.append(in_c)
                elif p.kind == "I1-":
                    sat.append(idx is not None and not in_c)
                else:  # a proportion is a property of the list: a catalog item holds it when the list does
                    sat.append(idx is not None and bool(pm.get("CPA")))
            items.append({
                "rank": pos + 1, "item_id": idx, "title": res.items[pos] or raw, "raw": raw,
                "categories": cats, "satisfies": sat, "illegal": bool(res.illegal[pos]),
                "repeat": bool(res.repeat[pos]), "nonexistent": bool(res.nonexistent[pos]),
                "in_history": bool(res.in_history[pos])})
        summary = []
        for j, (p, pm) in enumerate(zip(parts, part_metrics, strict=False)):
            tcp = pm.get("TCP")
            # one verdict rule for parts and lines: a part holds when the list has lines and every line
            # satisfies it (so a list with no catalog item satisfies nothing)
            ok = bool(items) and all(it["satisfies"][j] for it in items)
            summary.append({**p.to_json(), "TCP": tcp, "CPA": pm.get("CPA"), "satisfied": bool(ok)})
        return {"items": items, "parts": summary, "metrics": res.metrics, "text": text,
                "k": job.spec.k, "mode": job.spec.mode, "user_id": job.user_id,
                "history": [self.item(i) for i in job.history[-self.cfg.prompt_history:]]}


class TransformersBackend:
    """Batched generation with `ctrlrec.llm.generate` and the trie logits processor."""

    constrained = True

    def __init__(self, rec: Recommender):
        self.rec = rec

    def generate(self, jobs: list[Job]) -> list[str]:
        from ctrlrec.llm.decoding import decode
        from ctrlrec.llm.generate import GenerationConfig

        c = self.rec.cfg
        gen = GenerationConfig(max_new_tokens=c.max_new_tokens_free, do_sample=c.sample,
                               temperature=c.temperature, top_p=c.top_p, batch_size=max(len(jobs), 1),
                               seed=c.seed)
        return decode(self.rec.model, self.rec.tok, self.rec.decoder, [j.messages for j in jobs],
                      [j.spec for j in jobs], gen)
