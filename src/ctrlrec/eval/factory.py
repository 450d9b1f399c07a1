"""Recommenders by name, as `ctrlrec eval MODEL` takes them.

  popularity          training popularity, top-k, instruction ignored
  teacher:RUN         the SASRec teacher's top-k, instruction ignored
  oracle:popularity   popularity top-k with the instruction applied as a filter
  oracle:RUN          the teacher's top-k with the instruction applied as a filter (upper bound)
  pool-copy, pool-random, pool-oracle   choosers over each case's candidate pool (eval.baselines)
  oracle-keywords:RUN the teacher's oracle fed by a keyword parser of the instruction's text
  anything else       a chat model: registry name (smollm2-135m), model folder, adapter, SFT/RL run
"""

from __future__ import annotations

from ctrlrec.errors import CtrlrecError
from ctrlrec.eval.runner import (
    LLMRecommender,
    OracleController,
    RankerRecommender,
    choose_backend,
    dataset_history,
)

POPULARITY_LEN = 50  # history items a popularity ranker is given (as TaskContext's default)


def _ranker(what: str, ds):
    """(ranker, history length, display name) for 'popularity' or a teacher run folder."""
    if what == "popularity":
        from ctrlrec.tasks.context import PopularityRanker

        return PopularityRanker.from_dataset(ds), POPULARITY_LEN, "popularity"
    from ctrlrec.teacher.api import Teacher  # lazy: the teacher stage may not be installed

    t = Teacher.load(what)
    if t.n_items != ds.n_items:
        raise CtrlrecError(f"teacher {what} was trained on {t.n_items} items but the dataset has "
                           f"{ds.n_items}; expected a teacher trained on this dataset")
    return t, t.config.max_len, "teacher"


def make_recommender(spec: str, ds, gen=None, backend: str = "auto", label: str | None = None,
                     precision: str = "auto", decoding: str = "free", prompting: str = "paper",
                     guidance: float = 0.0, answer: str = "titles"):
    """A `Recommender` for `spec` over dataset `ds` (see the module docstring)."""
    from ctrlrec.eval.baselines import POOL_BASELINES, KeywordOracle, PoolBaseline

    titles = ds.catalog["title"].tolist()
    history = dataset_history(ds)
    if spec in POOL_BASELINES:
        return PoolBaseline(spec, titles, ds.category_matrix, list(ds.categories), label or spec)
    if spec.startswith("oracle-keywords:"):
        ranker, max_len, rname = _ranker(spec.partition(":")[2], ds)
        return KeywordOracle(ranker, titles, label or f"oracle ({rname}, keyword parser)", history,
                             max_len, catmat=ds.category_matrix, categories=list(ds.categories))
    if spec == "popularity" or spec.startswith(("teacher:", "oracle:")):
        kind, _, what = spec.partition(":")
        if kind == "popularity":
            kind, what = "ranker", "popularity"
        if not what:
            raise CtrlrecError(f"model {spec!r}: expected {kind}:popularity or {kind}:TEACHER_RUN")
        ranker, max_len, rname = _ranker(what, ds)
        if kind == "oracle":
            return OracleController(ranker, titles, label or f"oracle ({rname})", history, max_len,
                                    catmat=ds.category_matrix, categories=list(ds.categories))
        return RankerRecommender(ranker, titles, label or rname, history, max_len)
    if gen is None:
        from ctrlrec.llm.generate import GenerationConfig

        gen = GenerationConfig()
    catalog = None
    if decoding != "free":
        from ctrlrec.scoring import Catalog

        catalog = Catalog.from_frame(ds.catalog)
    return LLMRecommender(spec, gen, choose_backend(backend), name=label or spec, precision=precision,
                          decoding=decoding, catalog=catalog, prompting=prompting, guidance=guidance,
                          answer=answer)
