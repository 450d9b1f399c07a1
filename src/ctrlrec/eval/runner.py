"""Recommenders the harness can evaluate: anything that turns test cases into generated text.

A `Recommender` answers a batch of test-set cases (the dicts written by `ctrlrec tasks testset`),
either with the control sentence (`plain=False`, the prompt in `messages`) or without it
(`plain=True`, `messages_plain`). Every recommender answers in the same form, a numbered list of
titles, so one scorer (`ctrlrec.scoring`) judges them all.

- `LLMRecommender`: a chat model (registry name, model folder, adapter or SFT run), Hugging Face
  batched generation by default, vLLM when installed and a GPU is present.
- `RankerRecommender`: a ranker's top-k (popularity, or the teacher), blind to the instruction.
- `OracleController`: the ranker's top-k with the instruction applied as a filter (the labels of
  `ctrlrec.tasks.labels`): the upper bound of a controller that follows the ranker's taste.

Rankers see the user's history as the test set's builder did when `histories` is given (the full
prefix, last `max_len` items, all of it excluded from the list), else the history shown in the prompt.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from ctrlrec.errors import CtrlrecError
from ctrlrec.scoring.intents import Intent, intent_from_json
from ctrlrec.tasks.labels import proportion_label, top_allowed

HistoryFn = Callable[[dict], Sequence[int]]


class Recommender(Protocol):
    """Answers test cases with generated text, one string per case, in the caller's order."""

    name: str

    def recommend(self, cases: list[dict], plain: bool) -> list[str]: ...

    def describe(self) -> dict: ...


def format_list(titles: Sequence[str]) -> str:
    """The answer format every model is trained to produce: `1. Title` lines."""
    return "\n".join(f"{i + 1}. {t}" for i, t in enumerate(titles))


def case_intents(case: dict) -> tuple[Intent, ...]:
    raw = case["intent"]
    return tuple(intent_from_json(x) for x in (raw if isinstance(raw, list) else [raw]))


def prompt_of(case: dict, plain: bool, prompting: str = "paper") -> list[dict]:
    """The case's prompt: with or without the control sentence, in the paper or grounded form."""
    key = {"paper": "messages", "grounded": "messages_grounded",
           "shuffled": "messages_grounded_shuffled"}[prompting]
    if plain and prompting == "shuffled":  # the permutation test runs with the control sentence only
        key = "messages_grounded_plain"
    elif plain:
        key += "_plain"
    if key not in case:
        raise CtrlrecError(f"case {case.get('id')}: no {key!r}; expected test sets built by this "
                           "version of `ctrlrec tasks testset` (the grounded prompts came with it)")
    return case[key]


def shown_history(case: dict) -> Sequence[int]:
    return case["history_ids"]


def dataset_history(ds) -> HistoryFn:
    """The case user's full prefix in `ds`: what `ctrlrec tasks testset` ranked for that case."""
    def history(case: dict) -> Sequence[int]:
        u = int(case["user"])
        prefix = ds.split.train[u] if str(case["id"]).startswith("valid-") else ds.sequences[u][:-1]
        return np.asarray(prefix, dtype=np.int64)
    return history


@dataclass
class _RankerBase:
    """Shared by the ranker baselines: ranking rows and the mask of items a list may hold."""

    ranker: object
    titles: list[str]
    name: str
    histories: HistoryFn = shown_history
    max_len: int | None = None
    seconds: float = field(default=0.0, init=False)

    def _rank(self, cases: list[dict]) -> tuple[np.ndarray, list[np.ndarray]]:
        hist = [np.asarray(self.histories(c), dtype=np.int64) for c in cases]
        inputs = [(h[-self.max_len:] if self.max_len else h).tolist() for h in hist]
        ranking = np.asarray(self.ranker.ranking(inputs))
        n = len(self.titles)
        if ranking.ndim != 2 or ranking.shape[1] != n:
            raise CtrlrecError(f"ranker {self.name}: ranking has shape {ranking.shape}; expected "
                               f"({len(cases)}, {n}) item ids for this dataset's catalog")
        allowed = []
        for h in hist:
            mask = np.ones(n, dtype=bool)
            mask[h] = False
            allowed.append(mask)
        return ranking, allowed

    def describe(self) -> dict:
        return {"name": self.name, "kind": type(self).__name__, "ranker": type(self.ranker).__name__,
                "max_len": self.max_len}


class RankerRecommender(_RankerBase):
    """A ranker's top-k as a numbered list; the instruction is ignored (popularity, the teacher)."""

    def recommend(self, cases: list[dict], plain: bool) -> list[str]:
        t0 = time.perf_counter()
        ranking, allowed = self._rank(cases)
        out = [format_list([self.titles[i] for i in ranking[b][allowed[b][ranking[b]]][: c["k"]]])
               for b, c in enumerate(cases)]
        self.seconds += time.perf_counter() - t0
        return out


@dataclass
class OracleController(_RankerBase):
    """The ranker's best items that obey the instruction (its top-k when `plain`).

    Hard filters come from I1+ (keep C) and I1- (drop C); an I2 part is met with the ranker's best
    items inside and outside C in allowed numbers (`proportion_label`). When the catalog cannot
    satisfy the instruction, the list is filled with the ranker's best remaining items so that it
    still holds k titles: TCP then falls short of 100% only for lack of items in C.
    """

    catmat: np.ndarray | None = None  # [n_categories, n_items] bool
    categories: list[str] = field(default_factory=list)

    def _in(self, category: str) -> np.ndarray:
        try:
            return self.catmat[self.categories.index(category)]  # type: ignore[index]
        except ValueError:
            raise CtrlrecError(f"oracle: category {category!r} is unknown to the dataset") from None

    def pick(self, ranking: np.ndarray, allowed: np.ndarray, k: int,
             intents: tuple[Intent, ...]) -> list[int]:
        """The oracle's k items for one case."""
        keep = allowed.copy()
        prop = None
        for p in intents:
            if p.kind in ("I1+", "I3"):
                keep &= self._in(p.category)
            elif p.kind == "I1-":
                keep &= ~self._in(p.category)
            elif p.kind.startswith("I2"):
                prop = p
        if prop is not None:
            picks = proportion_label(ranking, keep, self._in(prop.category), k, prop.kind,
                                     prop.allowed(k))
        else:
            picks = top_allowed(ranking, keep, k)
        if picks is None:  # unsatisfiable: the best items that pass the hard filters
            picks = ranking[keep[ranking]][:k].tolist()
        if len(picks) < k:  # not enough items obey: fill with the best allowed items left
            rest = allowed.copy()
            rest[picks] = False
            picks = picks + ranking[rest[ranking]][: k - len(picks)].tolist()
        return picks

    def recommend(self, cases: list[dict], plain: bool) -> list[str]:
        t0 = time.perf_counter()
        ranking, allowed = self._rank(cases)
        out = []
        for b, c in enumerate(cases):
            intents = () if plain else case_intents(c)  # plain: the ranker's own top-k
            picks = self.pick(ranking[b], allowed[b], int(c["k"]), intents)
            out.append(format_list([self.titles[i] for i in picks]))
        self.seconds += time.perf_counter() - t0
        return out


@dataclass
class LLMRecommender:
    """A chat model answering the prompts: `backend` "hf" (default) or "vllm".

    precision: "auto" (bf16 on a GPU or CPU that computes it natively, else fp32), "fp32" or "bf16" (on
    a CPU with AVX512-BF16/AMX bf16 inference measured ~1.75x faster; on an AVX2-only CPU ~5x slower;
    answers may differ slightly).
    decoding: "free" (the model alone), "catalog" or "guaranteed" (`ctrlrec.llm.decoding`: every line a
    catalog title outside the history; "guaranteed" also enforces the case's intent).
    prompting: "paper" (the prompt names the history only: `messages`), "grounded" (the prompt
    lists the case's candidate pool, `messages_grounded`, and constrained decoding stays inside it)
    or "shuffled" (the same pool in a random order: the permutation test of a copying model).
    guidance: weight of the teacher's scores added where a title is chosen (catalog and guaranteed
    decoding; the case's pool scores, or its teacher list in the paper mode); 0 = the model alone.
    Greedy answers are memoised by prompt and decoding constraints, so a control set's plain variant
    (the I0 prompt of the same user) is not generated twice in one run.
    """

    model_spec: str
    gen: object  # ctrlrec.llm.generate.GenerationConfig
    backend: str = "hf"
    name: str = ""
    progress: bool = True
    precision: str = "auto"
    decoding: str = "free"
    catalog: object = None  # ctrlrec.scoring.Catalog, needed for constrained decoding
    prompting: str = "paper"
    guidance: float = 0.0
    answer: str = "titles"  # the model's answer lines: "titles" or "tagged" (ctrlrec.tasks.pool)
    seconds: float = field(default=0.0, init=False)  # time spent generating
    cache_hits: int = field(default=0, init=False)
    _model: object = field(default=None, init=False, repr=False)
    _tok: object = field(default=None, init=False, repr=False)
    _decoder: object = field(default=None, init=False, repr=False)
    _memo: dict = field(default_factory=dict, init=False, repr=False)

    def __post_init__(self) -> None:
        from ctrlrec.llm.decoding import MODES

        self.name = self.name or self.model_spec
        if self.backend not in ("hf", "vllm"):
            raise CtrlrecError(f"backend {self.backend!r}: expected hf or vllm")
        if self.decoding not in MODES:
            raise CtrlrecError(f"decoding {self.decoding!r}: expected one of {', '.join(MODES)}")
        if self.decoding != "free" and (self.backend != "hf" or self.catalog is None):
            raise CtrlrecError(f"decoding {self.decoding!r} needs the hf backend and the dataset's catalog")
        if self.answer not in ("titles", "tagged"):
            raise CtrlrecError(f"answer {self.answer!r}: expected titles or tagged")
        if self.prompting not in ("paper", "grounded", "shuffled"):
            raise CtrlrecError(f"prompting {self.prompting!r}: expected paper, grounded or shuffled")
        if self.guidance < 0 or (self.guidance > 0 and self.decoding == "free"):
            raise CtrlrecError(f"guidance {self.guidance}: expected >= 0, and catalog or guaranteed "
                               "decoding when > 0 (free decoding has no title choice points)")
        if self.backend == "hf":
            from ctrlrec.llm.models import check_spec

            check_spec(self.model_spec)  # a missing model is named before the first case runs

    def load(self) -> None:
        if self._model is not None:
            return
        if self.backend == "vllm":
            from ctrlrec.eval.vllm_backend import load_vllm

            self._model, self._tok = load_vllm(self.model_spec, self.gen)
            return
        from ctrlrec.llm.device import choose
        from ctrlrec.llm.models import load_any

        placement = choose("auto", self.precision, inference=True)
        self._model, self._tok = load_any(self.model_spec, placement, merge=True)
        if self.decoding != "free":
            from ctrlrec.llm.decoding import CatalogDecoder

            self._decoder = CatalogDecoder(self._tok, self.catalog, tagged=self.answer == "tagged")

    def _key(self, prompt, case: dict, plain: bool) -> str | None:
        if self.gen.do_sample:  # type: ignore[attr-defined]
            return None  # a sampled answer is not a function of its prompt
        import json

        spec = "" if self.decoding == "free" else json.dumps(
            [int(case["k"]), case["history_ids"], None if plain else case["intent"]])
        return json.dumps(prompt, ensure_ascii=False) + spec

    def recommend(self, cases: list[dict], plain: bool) -> list[str]:
        self.load()
        prompts = [prompt_of(c, plain, self.prompting) for c in cases]
        keys = [self._key(p, c, plain) for p, c in zip(prompts, cases, strict=True)]
        todo = [i for i, k in enumerate(keys) if k is None or k not in self._memo]
        todo = list({keys[i] if keys[i] is not None else i: i for i in todo}.values())  # once per prompt
        self.cache_hits += len(cases) - len(todo)
        t0 = time.perf_counter()
        fresh = self._generate([prompts[i] for i in todo], [cases[i] for i in todo], plain) if todo else []
        self.seconds += time.perf_counter() - t0
        got = dict(zip(todo, fresh, strict=True))
        for i, text in got.items():
            if keys[i] is not None:
                self._memo[keys[i]] = text
        return [got[i] if i in got else self._memo[keys[i]] for i in range(len(cases))]

    def _generate(self, prompts: list, cases: list[dict], plain: bool) -> list[str]:
        if self.backend == "vllm":
            from ctrlrec.eval.vllm_backend import generate_vllm

            return generate_vllm(self._model, prompts, self.gen)
        if self.decoding == "free":
            from ctrlrec.llm.generate import generate

            return generate(self._model, self._tok, prompts, self.gen, progress=False)
        from ctrlrec.llm.decoding import decode

        specs = [self._spec(c, plain) for c in cases]
        return decode(self._model, self._tok, self._decoder, prompts, specs, self.gen)

    def _spec(self, c: dict, plain: bool):
        from ctrlrec.llm.decoding import RowSpec

        grounded = self.prompting in ("grounded", "shuffled")
        pool = tuple(int(i) for i in c["pool_ids"]) if grounded else ()
        guide_items: tuple = ()
        guide_scores: tuple = ()
        if self.guidance > 0:
            if grounded:
                guide_items, guide_scores = pool, tuple(float(x) for x in c["pool_scores"])
            else:  # the teacher's list of the case, scored by rank (its scores are not stored)
                guide_items = tuple(int(i) for i in c["teacher_ids"])
                guide_scores = tuple(-float(np.log1p(r)) for r in range(len(guide_items)))
        return RowSpec(int(c["k"]), self.decoding, tuple(dict.fromkeys(int(h) for h in c["history_ids"])),
                       () if plain else case_intents(c), pool=pool, guide_items=guide_items,
                       guide_scores=guide_scores, guidance=self.guidance)

    def describe(self) -> dict:
        return {"name": self.name, "kind": "LLMRecommender", "model": self.model_spec,
                "backend": self.backend, "precision": self.precision, "decoding": self.decoding,
                "prompting": self.prompting, "guidance": self.guidance, "answer": self.answer,
                "generation": self.gen.to_dict()}  # type: ignore[attr-defined]


def choose_backend(requested: str) -> str:
    """"auto" means vLLM when it is importable and a CUDA GPU is visible, else Hugging Face."""
    if requested != "auto":
        if requested == "vllm":
            from ctrlrec.eval.vllm_backend import check_available

            check_available()
        return requested
    import importlib.util

    if importlib.util.find_spec("vllm") is None:
        return "hf"
    import torch

    return "vllm" if torch.cuda.is_available() else "hf"
