"""Evaluation: every model and baseline on the same fixed test sets, scored by ctrlrec.scoring.

    rec = make_recommender("popularity", ds)            # or oracle:..., teacher:..., a chat model
    summary = run_eval(rec, "~/.cache/ctrlrec/tasks/ml-100k", Catalog.from_frame(ds.catalog), out,
                       EvalConfig())
    write_report([out, ...], "docs/results/ml-100k")

Modules: runner (recommenders), harness (run, resume, summary), factory (recommenders by name),
tables / paper (the paper's tables and its published figures), plots, report, cli.
"""

from ctrlrec.eval.harness import EvalConfig, run_eval, summarise
from ctrlrec.eval.runner import LLMRecommender, OracleController, RankerRecommender, Recommender, format_list

__all__ = ["EvalConfig", "LLMRecommender", "OracleController", "RankerRecommender", "Recommender",
           "format_list", "run_eval", "summarise"]
