"""RL vs SFT on the fixed test sets: greedy decoding, scored with ctrlrec.scoring.

Produces the columns of docs/results.md, 'RL', row 'RL against SFT on ml-100k' (the row on the page
came from the 2026-11-30 `make demo` evaluation, which scores the same sets the same way).

    python bench/rl_compare.py --tests runs/ml-100k/tasks-pop/test --limit 32 \
        --model sft=RUN_SFT --model rl=runs/rl-ml100k [--json out.json]

Prints, per model: I1- TCP@10, CPA of I2<=20% / I2~30% / I2>=30%, RepeatItem / NonExist / InHistory
(count set, k = 11..15) and HR@10 (I0), each over the first --limit cases of each set (the same
cases for every model). Test sets come from `ctrlrec tasks testset`.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

SETS = {"I1neg": ["TCP"], "I2le20": ["CPA"], "I2approx30": ["CPA"], "I2ge30": ["CPA"],
        "count": ["RepeatItem", "NonExist", "InHistory"], "I0": ["HR"]}


def evaluate(model_ref: str, tests: Path, limit: int, dataset: str, batch: int, max_new: int) -> dict:
    from ctrlrec.data import load_catalog
    from ctrlrec.llm.generate import GenerationConfig, generate
    from ctrlrec.llm.models import load_any
    from ctrlrec.scoring import Case, Catalog, score_batch
    from ctrlrec.scoring.intents import as_intents, intent_from_json
    from ctrlrec.tasks.testsets import load_testset

    catalog = Catalog.from_frame(load_catalog(dataset))
    model, tok = load_any(model_ref)
    out = {}
    for name, metrics in SETS.items():
        cases = load_testset(tests / f"{name}.jsonl")[:limit]
        t0 = time.perf_counter()
        texts = generate(model, tok, cases, GenerationConfig(max_new_tokens=max_new, batch_size=batch))
        judged = []
        for t, c in zip(texts, cases, strict=True):
            raw = c["intent"] if isinstance(c["intent"], list) else [c["intent"]]
            intents = as_intents([intent_from_json(x) for x in raw])
            judged.append(Case(t, c["k"], intents, c["history_ids"], c["target_id"], c["teacher_ids"]))
        scored = score_batch(catalog, judged)
        means = scored.mean_metrics()
        out[name] = {m: means[m] for m in metrics} | {"n": len(cases), "seconds": time.perf_counter() - t0}
        print(model_ref, name, out[name], flush=True)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--tests", type=Path, required=True)
    ap.add_argument("--model", action="append", required=True, help="label=path-or-name")
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--limit", type=int, default=32)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--max-new-tokens", type=int, default=200)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    res = {}
    for spec in args.model:
        label, _, ref = spec.partition("=")
        res[label] = evaluate(ref, args.tests, args.limit, args.dataset, args.batch, args.max_new_tokens)
    if args.json:
        args.json.write_text(json.dumps(res, indent=2))


if __name__ == "__main__":
    main()
