"""Scoring throughput: generated top-10 lists scored end to end (parse, ground, legality, metrics,
rewards) against an ml-1m-sized catalog and a 100,000-title synthetic one.

Produces docs/results.md, 'Scoring and the evaluation harness', rows '100,000 generated top-10 lists
scored end to end' and 'the same on a synthetic 100,000-title catalog'.

    taskset -c 0 python bench/scoring.py [--cases 100000] [--baseline 1000]

Workload per catalog: 90% clean lists (teacher picks, some history items and repeats), 5% lists with
1-3 typos (1-3 character edits, so grounding needs the fuzzy step), 5% garbage (chatty or invented
lines that ground to nothing, so the fuzzy step must search and fail). Each case is k=10 with a random
intent kind, 10 history items, a target and the teacher's top 20 ids. The baseline is the same
pipeline with the fuzzy step as a linear rapidfuzz scan over the whole catalog per title and no
cache, timed on a subsample side by side; the two must agree on every grounded item.
"""

from __future__ import annotations

import argparse
import importlib
import os
import random
import string
import sys
import time
from pathlib import Path

import numpy as np
from rapidfuzz import process
from rapidfuzz.distance import Levenshtein

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's ctrlrec
_scoring = importlib.import_module("ctrlrec.scoring")
Case, Catalog, Intent, score_batch = _scoring.Case, _scoring.Catalog, _scoring.Intent, _scoring.score_batch
normalise = _scoring.normalise

GENRES = ["Action", "Adventure", "Animation", "Children's", "Comedy", "Crime", "Documentary", "Drama",
          "Fantasy", "Film-Noir", "Horror", "Musical", "Mystery", "Romance", "Sci-Fi", "Thriller",
          "War", "Western"]


_LETTERS = "etaoinshrdlcumwfgypbvkjxqz"
_FREQ = [12.7, 9.1, 8.2, 7.5, 7.0, 6.7, 6.3, 6.1, 6.0, 4.3, 4.0, 2.8, 2.8, 2.4, 2.4, 2.2, 2.0, 2.0,
         1.9, 1.5, 1.0, 0.8, 0.2, 0.2, 0.1, 0.1]


def _word(rng: random.Random) -> str:
    """A pseudo-word with English letter frequencies (so q-grams are about as diverse as in titles)."""
    return "".join(rng.choices(_LETTERS, _FREQ, k=rng.choice([2, 3, 4, 4, 5, 5, 6, 7, 8, 9]))).capitalize()


def synthetic_catalog(n: int, vocab: int, seed: int) -> tuple:
    rng = random.Random(seed)
    words = list({_word(rng) for _ in range(vocab * 2)})[:vocab]
    titles, seen = [], set()
    while len(titles) < n:
        t = " ".join(rng.choice(words) for _ in range(rng.choice([1, 1, 2, 2, 2, 3, 3, 4, 5])))
        if rng.random() < 0.1:
            t += ", The"
        t = f"{t} ({rng.randint(1919, 2000)})"
        if t not in seen:
            seen.add(t)
            titles.append(t)
    cats = [rng.sample(GENRES, rng.choice([1, 1, 2, 2, 3])) for _ in titles]
    return np.arange(n), titles, cats


def real_or_synthetic_ml1m() -> tuple[tuple, str]:
    home = Path(os.environ.get("CTRLREC_HOME", Path.home() / ".cache" / "ctrlrec"))
    if (home / "datasets" / "ml-1m" / "meta.json").is_file():
        from ctrlrec.data.store import load_catalog

        df = load_catalog("ml-1m")
        return (df.item_id.to_numpy(), df.title.tolist(), df.categories.tolist()), "ml-1m (real)"
    return synthetic_catalog(3706, 2500, 1), "ml-1m-sized synthetic (3,706 titles)"


def _typo(rng: random.Random, t: str) -> str:
    s = list(t)
    for _ in range(rng.randint(1, 3)):
        i = rng.randrange(len(s))
        op = rng.random()
        if op < 0.4:
            s[i] = rng.choice(string.ascii_lowercase)
        elif op < 0.7:
            del s[i]
        else:
            s.insert(i, rng.choice(string.ascii_lowercase))
    return "".join(s)


def make_cases(cat: Catalog, n: int, seed: int) -> list[Case]:
    rng = random.Random(seed)
    m = len(cat)
    kinds = [Intent("I0"), Intent("I1+", "Comedy"), Intent("I1-", "Drama"),
             Intent("I2<=", "Action", 0.2), Intent("I2~", "Drama", 0.3), Intent("I2>=", "Comedy", 0.3),
             Intent("I3", "Horror")]
    chatter = ["Sure! Here are some movies you might enjoy:", "I hope you like these picks.",
               "As an AI language model I cannot browse", "Note: the list is ranked by relevance"]
    cases = []
    for c in range(n):
        teacher = [rng.randrange(m) for _ in range(20)]
        history = [rng.randrange(m) for _ in range(10)]
        picks = teacher[:8] + [rng.randrange(m), history[0] if rng.random() < 0.2 else teacher[0]]
        lines = [cat.titles[i] for i in picks]
        r = rng.random()
        if r < 0.05:
            for j in rng.sample(range(10), rng.randint(1, 3)):
                lines[j] = _typo(rng, lines[j])
        elif r < 0.10:
            lines = [rng.choice(chatter) if rng.random() < 0.3 else
                     " ".join(_word(rng) for _ in range(rng.randint(1, 4))) + f" ({rng.randint(1920, 2000)})"
                     for _ in range(10)]
        text = "\n".join(f"{i + 1}. {t}" for i, t in enumerate(lines))
        cases.append(Case(text, 10, kinds[c % len(kinds)], history, teacher[0], teacher, id=str(c)))
    return cases


class ScanCatalog(Catalog):
    """The naive baseline: exact and normalised maps, then a full-catalog rapidfuzz scan; no cache."""

    def ground(self, raw: str) -> int:
        i = self.exact.get(raw)
        if i is None:
            i = self._ground_slow(raw)
        return i

    def _ground_slow(self, raw: str) -> int:
        if not raw:
            return -1
        i = self.normalised.get(normalise(raw))
        if i is not None:
            return i
        hits = process.extract(raw, self.titles, scorer=Levenshtein.distance, score_cutoff=3, limit=None)
        return min(hits, key=lambda h: (h[1], h[2]))[2] if hits else -1


def run(spec: tuple, label: str, n_cases: int, n_base: int, seed: int) -> dict:
    cat = Catalog(*spec)
    cases = make_cases(cat, n_cases, seed)
    t0 = time.perf_counter()
    _ = cat.fuzzy  # the index is built once per catalog, not per case
    build = time.perf_counter() - t0
    t0, c0 = time.perf_counter(), time.process_time()
    res = score_batch(cat, cases)
    full, cpu = time.perf_counter() - t0, time.process_time() - c0
    sub = cases[:n_base]
    fresh = Catalog(*spec)
    _ = fresh.fuzzy
    t0 = time.perf_counter()
    a = score_batch(fresh, sub)
    idx_t = time.perf_counter() - t0
    base = ScanCatalog(*spec)
    t0 = time.perf_counter()
    b = score_batch(base, sub)
    base_t = time.perf_counter() - t0
    assert np.array_equal(a.item, b.item), "indexed and linear-scan grounding disagree"
    out = {"catalog": label, "cases": n_cases, "index_build_s": build, "seconds": full,
           "cases_per_s": n_cases / full, "cases_per_cpu_s": n_cases / cpu, "sub": n_base,
           "sub_indexed_cps": n_base / idx_t,
           "sub_baseline_cps": n_base / base_t, "speedup": base_t / idx_t,
           "nonexistent": float(res.flags.nonexistent.mean())}
    print(f"{label}: {n_cases:,} cases in {full:.2f} s = {out['cases_per_s']:,.0f} cases/s wall, "
          f"{out['cases_per_cpu_s']:,.0f} cases per CPU-second (fuzzy index built in {build:.2f} s; "
          f"{100 * out['nonexistent']:.1f}% of lines non-existent)")
    print(f"  subsample of {n_base:,} cold-cache cases: indexed {out['sub_indexed_cps']:,.0f} cases/s, "
          f"linear-scan baseline {out['sub_baseline_cps']:,.0f} cases/s -> {out['speedup']:.1f}x")
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=100_000)
    ap.add_argument("--baseline", type=int, default=1_000, help="subsample size for the baseline")
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    print(f"python {sys.version.split()[0]}, numpy {np.__version__}, cpu affinity "
          f"{sorted(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else '?'}, "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    ml, label = real_or_synthetic_ml1m()
    run(ml, label, args.cases, args.baseline, args.seed)
    big = synthetic_catalog(100_000, 40_000, 2)
    run(big, "synthetic 100,000 titles", args.cases, max(args.baseline // 5, 100), args.seed)


if __name__ == "__main__":
    main()
