"""Jump-forward against stepwise greedy decoding, one request at a time, on the demo's grounded cases.

Produces docs/results.md, 'The aligned model', the row 'guaranteed decoding of one request, stepwise
against jump-forward'.

    python bench/jump.py [--model runs/pipeline-ml-100k/sft] [--n 8] [--mode guaranteed] [--threads 2]
                         [--cases runs/pipeline-ml-100k/tasks/test/I1neg.jsonl] [--precision auto]

Each case is decoded alone (a batch of one, as the service answers a single client) over its pool,
by `ctrlrec.llm.generate` with `jump` off (one model forward per token) and on (forced tokens
appended without the model); the two alternate case by case so load falls on both alike. Printed:
median and mean seconds per answer, the ratio, model forwards per answer (jump) against answer tokens,
and how many answers are identical.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's ctrlrec


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="runs/pipeline-ml-100k/sft")
    ap.add_argument("--cases", default="runs/pipeline-ml-100k/tasks/test/I1neg.jsonl")
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--n", type=int, default=8)
    ap.add_argument("--mode", default="guaranteed", choices=("catalog", "guaranteed"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--precision", default="auto")
    a = ap.parse_args()
    import torch

    torch.set_num_threads(a.threads)
    from ctrlrec.data import load
    from ctrlrec.eval.factory import make_recommender
    from ctrlrec.llm import jump
    from ctrlrec.llm.generate import GenerationConfig

    ds = load(a.dataset)
    cases = [json.loads(line) for line in open(a.cases, encoding="utf-8") if line.strip()][: a.n]
    recs = {}
    for name, on in (("stepwise", False), ("jump", True)):
        gen = GenerationConfig(max_new_tokens=200, batch_size=1, jump=on)
        recs[name] = make_recommender(a.model, ds, gen, "hf", name, a.precision, a.mode, "grounded")
        recs[name].load()
    calls: list[int] = []
    tokens: list[int] = []
    real = jump.greedy_jump

    def counting(*args, **kw):
        new, n = real(*args, **kw)
        calls.append(n)
        tokens.append(len(new))
        return new, n

    jump.greedy_jump = counting
    secs: dict[str, list[float]] = {"stepwise": [], "jump": []}
    answers: dict[str, list[str]] = {"stepwise": [], "jump": []}
    for j, case in enumerate(cases):
        order = ("stepwise", "jump") if j % 2 == 0 else ("jump", "stepwise")
        for name in order:
            t0 = time.perf_counter()
            text = recs[name].recommend([case], plain=False)[0]
            secs[name].append(time.perf_counter() - t0)
            answers[name].append(text)
        print(f"case {j + 1}/{len(cases)}: stepwise {secs['stepwise'][-1]:.2f} s, "
              f"jump {secs['jump'][-1]:.2f} s", flush=True)
    med = {n: statistics.median(v) for n, v in secs.items()}
    same = sum(x == y for x, y in zip(answers["stepwise"], answers["jump"], strict=True))
    ks = sorted({int(c["k"]) for c in cases})
    print(f"{a.mode} decoding over the pool, k = {ks}, {len(cases)} cases of {a.cases}, one at a time, "
          f"{a.threads} threads")
    for n in ("stepwise", "jump"):
        print(f"{n:9} median {med[n]:6.2f} s  mean {statistics.mean(secs[n]):6.2f} s")
    print(f"speed-up (median) {med['stepwise'] / med['jump']:.2f}x; jump: {statistics.mean(calls):.1f} model "
          f"forwards per answer after the prompt, for {statistics.mean(tokens):.1f} answer tokens; "
          f"identical answers {same}/{len(cases)}")


if __name__ == "__main__":
    main()
