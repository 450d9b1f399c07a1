"""Evaluation throughput: test cases per second through `ctrlrec eval`'s harness on the default model
(smollm2-135m, Hugging Face backend), and how much of the time is not generation.

Produces docs/results.md, 'Scoring and the evaluation harness', row 'evaluation harness, everything
but generation'.

    python bench/eval.py [--dataset ml-100k] [--cases 32] [--overhead-cases 4000]

Two runs of the same harness (`run_eval`) over the same ml-100k I1+ test cases, with and without the
control sentence, into a fresh temporary folder:
  1. the LLM: generation time (inside `recommend`) against the whole run (scoring, appends, summary);
  2. the harness alone, with an instant recommender that returns a fixed 10-title list, on many more
     cases: the per-case cost of everything but generation, measured precisely.
The share of non-generation time at LLM speed is overhead / (generation + overhead) per case. Wall
and CPU (process) seconds are both printed: on a shared machine the wall figures include waiting.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's ctrlrec

from ctrlrec.data import load  # noqa: E402
from ctrlrec.eval.factory import make_recommender  # noqa: E402
from ctrlrec.eval.harness import EvalConfig, run_eval  # noqa: E402
from ctrlrec.llm.generate import GenerationConfig  # noqa: E402
from ctrlrec.scoring import Catalog  # noqa: E402
from ctrlrec.tasks.config import TestsetConfig  # noqa: E402
from ctrlrec.tasks.context import PopularityRanker, TaskContext  # noqa: E402
from ctrlrec.tasks.testsets import save_testsets  # noqa: E402


class Instant:
    """Answers every case at once with the same 10 titles: the harness cost without generation."""

    name = "instant"

    def __init__(self, titles):
        self.text = "\n".join(f"{i + 1}. {t}" for i, t in enumerate(titles[:10]))
        self.seconds = 0.0

    def recommend(self, cases, plain):
        return [self.text] * len(cases)

    def describe(self):
        return {"name": self.name, "kind": "Instant"}


def timed(rec, tasks, cat, out, cfg, dataset):
    w, c = time.perf_counter(), time.process_time()
    s = run_eval(rec, tasks, cat, out, cfg, dataset, progress=False)
    return s["timing"], time.perf_counter() - w, time.process_time() - c


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--testsets", type=Path, default=None, help="default: built with popularity")
    ap.add_argument("--cases", type=int, default=32, help="I1+ cases for the LLM (x2 variants)")
    ap.add_argument("--overhead-cases", type=int, default=4000)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=320)
    args = ap.parse_args()

    ds = load(args.dataset)
    cat = Catalog.from_frame(ds.catalog)
    with tempfile.TemporaryDirectory(prefix="bench-eval-") as tmp:
        tmp = Path(tmp)
        tasks = args.testsets
        if tasks is None:
            tasks = tmp / "tasks"
            save_testsets(tasks, TaskContext(ds, PopularityRanker.from_dataset(ds)),
                          TestsetConfig(seed=0), args.dataset, "popularity")
        gen = GenerationConfig(max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
        llm = make_recommender("smollm2-135m", ds, gen, backend="auto")
        llm.load()  # loading the model is not part of the per-case cost
        n = args.cases
        tm, wall, cpu = timed(llm, tasks, cat, tmp / "llm",
                              EvalConfig(tasks=("I1+",), limit=n, batch_size=2 * args.batch_size),
                              args.dataset)
        gen_s = tm["generate_s"]
        print(f"LLM ({llm.backend}, batch {args.batch_size}, max_new_tokens {args.max_new_tokens}): "
              f"{tm['cases']} cases in {wall:.1f} s wall = {tm['cases'] / wall:.3f} cases/s "
              f"(process CPU {cpu:.1f} s); generation {gen_s:.1f} s = {100 * gen_s / wall:.2f}% "
              f"of wall; scoring {tm['score_s']:.3f} s, appends {tm['write_s']:.3f} s, "
              f"summary {tm['summary_s']:.3f} s")

        # The harness alone: as many distinct cases as the sets hold, both variants.
        sets = ("I1+", "I1-", "I2<=20%", "I2~30%", "I2>=30%", "I2~50%", "I1+&I1-", "I2<=20%&I1-")
        per_set = max(1, args.overhead_cases // (2 * len(sets)))
        inst = Instant(ds.catalog["title"].tolist())
        tm2, wall2, cpu2 = timed(inst, tasks, cat, tmp / "instant",
                                 EvalConfig(tasks=sets, limit=per_set, batch_size=64), args.dataset)
        m = tm2["cases"]
        over_wall, over_cpu = wall2 / m, cpu2 / m
        gen_case = gen_s / tm["cases"]
        print(f"harness alone: {m} cases in {wall2:.2f} s wall = {m / wall2:,.0f} cases/s "
              f"({over_wall * 1e3:.2f} ms/case wall, {over_cpu * 1e3:.2f} ms/case CPU; scoring "
              f"{tm2['score_s']:.2f} s, appends {tm2['write_s']:.2f} s, summary {tm2['summary_s']:.2f} s)")
        share = over_wall / (gen_case + over_wall)
        print(f"non-generation share at LLM speed: {100 * share:.3f}% "
              f"({over_wall * 1e3:.2f} ms of {1e3 * (gen_case + over_wall):.0f} ms per case); "
              f"target < 5%: {'met' if share < 0.05 else 'NOT met'}")


if __name__ == "__main__":
    main()
