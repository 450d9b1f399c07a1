"""Free vs catalog vs guaranteed decoding on the same prompts, one run; trie build time and memory.

Produces docs/results.md, 'Decoding and service', the 'Decoding' table (cost, formatting errors,
intent met, trie build).

    python bench/decoding.py [--model smollm2-135m] [--dataset ml-1m] [--prompts 24] [--k 10]
                             [--batch 8] [--rounds 2] [--threads 1] [--synthetic 100000]

The prompts are ml-1m users (the last 10 history items shown, every history item excluded) with a
random structured intent (I1+, I1-, I2<=, I2~, I2>=, rendered into the prompt as the training data
words it). Every mode decodes the same prompts greedily; rounds alternate the modes so that load
from other processes falls on all of them alike. Generated tokens are the tokens of each answer
(retokenised) plus its end-of-turn token. The processor's own time is also measured directly (its
__call__ wrapped with a timer), which is robust to the machine's load. Formatting errors are lines
that are non-existent, repeated or in the history, plus lists without exactly k lines
(`ctrlrec.scoring`). Trie build: tokenisation + arrays, cold (no cache), peak memory via tracemalloc.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's ctrlrec

from ctrlrec import intents as wording  # noqa: E402
from ctrlrec.llm import decoding, trie  # noqa: E402
from ctrlrec.llm.generate import GenerationConfig  # noqa: E402
from ctrlrec.scoring import Case, Catalog, Intent, score_batch  # noqa: E402

KINDS = ("I1+", "I1-", "I2<=", "I2~", "I2>=")
WORDS = ("night dark star love city lost river last house king blue red silent wild iron secret "
         "summer winter road dream ghost heart storm fire glass paper golden broken empty long "
         "little big brother sister island garden mirror shadow empire return journey").split()


def synthetic_titles(n: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    out, seen = [], set()
    while len(out) < n:
        words = " ".join(rng.choice(WORDS).capitalize() for _ in range(rng.randint(1, 5)))
        t = f"{'The ' if rng.random() < 0.3 else ''}{words} ({rng.randint(1920, 2024)})"
        if t not in seen:
            seen.add(t)
            out.append(t)
    return out


def trie_cost(tok, titles: list[str]) -> dict:
    tracemalloc.start()
    t0 = time.perf_counter()
    tr = trie.trie_for(tok, titles, cache=False)
    took = time.perf_counter() - t0
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return {"titles": len(titles), "nodes": tr.n_nodes, "seconds": took, "arrays_mib": tr.nbytes / 2**20,
            "peak_mib": peak / 2**20, "max_tokens": int(tr.lengths.max())}


def make_cases(ds, n: int, k: int, seed: int):
    rng = random.Random(seed)
    users = rng.sample(range(ds.n_users), n)
    prompts, specs = [], []
    for u in users:
        hist = [int(i) for i in ds.sequences[u]]
        kind = rng.choice(KINDS)
        cat = rng.choice(ds.categories[:8])
        intent = Intent(kind, cat, rng.choice((0.2, 0.3, 0.5)) if kind.startswith("I2") else None)
        text = wording.render_intent(intent, k, rng).text
        shown = [wording.shorten(ds.catalog["title"].iat[i]) for i in hist[-10:]]
        prompts.append(wording.messages(wording.user_prompt(k, shown, text)))
        specs.append((k, tuple(hist), (intent,)))
    return prompts, specs


def run_mode(model, tok, dec, prompts, specs, mode, batch):
    rows = [decoding.RowSpec(k, mode, h, i) for k, h, i in specs]
    timer = {"s": 0.0, "calls": 0}
    real = decoding.ConstrainedLogits.__call__

    def timed(self, input_ids, scores):
        t0 = time.perf_counter()
        out = real(self, input_ids, scores)
        timer["s"] += time.perf_counter() - t0
        timer["calls"] += 1
        return out

    decoding.ConstrainedLogits.__call__ = timed
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        texts = decoding.decode(model, tok, dec, prompts, rows, GenerationConfig(batch_size=batch))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        decoding.ConstrainedLogits.__call__ = real
    tokens = sum(len(tok(t, add_special_tokens=False)["input_ids"]) + 1 for t in texts)
    timer["cpu"] = cpu
    return texts, wall, tokens, timer


def format_errors(cat, texts, specs) -> dict:
    cases = [Case(t, k, i, h) for t, (k, h, i) in zip(texts, specs, strict=True)]
    res = score_batch(cat, cases)
    f = res.flags
    bad_lines = int((f.nonexistent | f.repeat | f.in_history).sum())
    wrong_count = int((res.list_metrics["CorrectCount"] == 0).sum())
    arr = res.metric_arrays()
    met = [(arr["TCP"][j] == 1) if i[0].kind == "I1+" else (arr["TCP"][j] == 0) if i[0].kind == "I1-"
           else (arr["CPA"][j] == 1) for j, (_, _, i) in enumerate(specs)]
    return {"bad_lines": bad_lines, "lines": len(f.illegal), "wrong_count": wrong_count,
            "intent_met": float(np.mean(met))}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--dataset", default="ml-1m")
    ap.add_argument("--prompts", type=int, default=24)
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--synthetic", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()

    import torch

    from ctrlrec.data import load
    from ctrlrec.llm.device import Placement
    from ctrlrec.llm.models import load as load_model

    if a.threads:
        torch.set_num_threads(a.threads)
    ds = load(a.dataset)
    model, tok = load_model(a.model, Placement("cpu", "fp32"))
    cat = Catalog.from_frame(ds.catalog)
    print(f"torch {torch.__version__}, threads {torch.get_num_threads()}, model {a.model}, "
          f"dataset {a.dataset}")

    for name, titles in ((f"{a.dataset} catalog", cat.titles),
                         (f"synthetic {a.synthetic:,}", synthetic_titles(a.synthetic, a.seed))):
        c = trie_cost(tok, titles)
        print(f"trie {name}: {c['titles']:,} titles, {c['nodes']:,} nodes, longest {c['max_tokens']} tokens, "
              f"build {c['seconds']:.2f} s, arrays {c['arrays_mib']:.1f} MiB, peak {c['peak_mib']:.0f} MiB")

    dec = decoding.CatalogDecoder(tok, cat, cache=True)
    prompts, specs = make_cases(ds, a.prompts, a.k, a.seed)
    run_mode(model, tok, dec, prompts[: a.batch], specs[: a.batch], "catalog", a.batch)  # warm-up
    totals = {m: {"wall": 0.0, "cpu": 0.0, "tokens": 0, "proc": 0.0, "calls": 0} for m in decoding.MODES}
    texts = {}
    for r in range(a.rounds):
        order = list(decoding.MODES) if r % 2 == 0 else list(reversed(decoding.MODES))
        for mode in order:
            out, wall, tokens, timer = run_mode(model, tok, dec, prompts, specs, mode, a.batch)
            t = totals[mode]
            t["wall"] += wall
            t["cpu"] += timer["cpu"]
            t["tokens"] += tokens
            t["proc"] += timer["s"]
            t["calls"] += timer["calls"]
            texts[mode] = out
            print(f"round {r} {mode:10s}: {tokens} tokens in {wall:.1f} s wall, {timer['cpu']:.1f} s CPU "
                  f"= {tokens / wall:.1f} tokens/s, {tokens / timer['cpu']:.1f} tokens per CPU-second",
                  flush=True)
    free_rate = totals["free"]["tokens"] / totals["free"]["wall"]
    free_cpu = totals["free"]["tokens"] / totals["free"]["cpu"]
    print(f"\n{a.prompts} prompts x {a.rounds} rounds, k={a.k}, batch {a.batch}, greedy")
    print("| mode | tokens/s (wall) | vs free | tokens per CPU-s | vs free | processor ms/step | "
          "processor share of wall | bad lines | "
          "lists without k lines | intent met |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for mode in decoding.MODES:
        t = totals[mode]
        rate, crate = t["tokens"] / t["wall"], t["tokens"] / t["cpu"]
        fe = format_errors(cat, texts[mode], specs)
        per_step = 1000 * t["proc"] / t["calls"] if t["calls"] else 0.0
        print(f"| {mode} | {rate:.1f} | {rate / free_rate:.2f}x | {crate:.1f} | {crate / free_cpu:.2f}x | "
              f"{per_step:.2f} | "
              f"{100 * t['proc'] / t['wall']:.1f}% | {fe['bad_lines']}/{fe['lines']} | "
              f"{fe['wrong_count']}/{len(specs)} | {100 * fe['intent_met']:.0f}% |")
    print("\nsample answers (first prompt):")
    for mode in decoding.MODES:
        print(f"-- {mode}\n{texts[mode][0][:400]}")


if __name__ == "__main__":
    main()
