"""Benchmark: streaming prepare of a generated Amazon-format dump.

Produces docs/results.md, 'Data and instruction data', row 'streaming prepare of 10M generated
Amazon 2018 reviews'.

Writes N interactions (default 10M) as `Movies_and_TV.json.gz` (full review records, as published)
plus the matching metadata file, then, each in a fresh subprocess so peak memory is its own:
  ctrlrec   prepare through the amazon source (streaming, compact arrays)
  baseline  pandas.read_json(lines=True) of the first BASELINE_N lines (the obvious way)
and prints rows/s and peak memory for both and the ratios.

    python bench/data_prepare.py [--n 10000000] [--baseline-n 1000000] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD_CTRLREC = r"""
import resource, sys, time
from ctrlrec.data import registry
from ctrlrec.data.build import FilterConfig
t = time.perf_counter()
ds, _ = registry.prepare("amazon", sys.argv[1], FilterConfig(5, 5))
dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
r = ds.meta["raw"]["interactions"]
print(f"{r} {dt:.2f} {peak:.0f} {len(ds.interactions)} {ds.n_users} {ds.n_items}")
"""

CHILD_BASELINE = r"""
import resource, sys, time, itertools, gzip, io
import pandas as pd
t = time.perf_counter()
with gzip.open(sys.argv[1], "rt") as fh:
    text = "".join(itertools.islice(fh, int(sys.argv[2])))
df = pd.read_json(io.StringIO(text), lines=True, convert_dates=False, dtype=False)
df = df.sort_values(["reviewerID", "unixReviewTime"]).drop_duplicates(["reviewerID", "asin"])
dt = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(f"{len(df)} {dt:.2f} {peak:.0f}")
"""


def generate(raw: Path, n: int, seed: int = 0) -> None:
    rng = random.Random(seed)
    n_items = max(1000, n // 50)
    n_users = max(100, n // 20)
    raw.mkdir(parents=True, exist_ok=True)
    with gzip.open(raw / "meta_Movies_and_TV.json.gz", "wt", compresslevel=1) as fh:
        for i in range(n_items):
            cat = ["Movies & TV", rng.choice(["Genre", "Art House"]), f"Sub {i % 37}"]
            fh.write(json.dumps({"category": cat, "title": f"Film {i} ({1950 + i % 70})",
                                 "asin": f"B{i:09d}", "description": ["x"]}) + "\n")
    t = time.perf_counter()
    with gzip.open(raw / "Movies_and_TV.json.gz", "wt", compresslevel=1) as fh:
        buf = []
        for j in range(n):
            u = int(n_users * rng.random() ** 2)
            i = int(rng.paretovariate(1.1) * 7) % n_items
            buf.append(
                '{"overall": 5.0, "verified": true, "reviewTime": "11 9, 2012", '
                f'"reviewerID": "A{u:012d}", "asin": "B{i:09d}", "reviewerName": "R", '
                '"reviewText": "Great film, would watch again.", "summary": "Good", '
                f'"unixReviewTime": {1262304000 + j * 17}}}\n'
            )
            if len(buf) == 100_000:
                fh.write("".join(buf))
                buf.clear()
                print(f"\rgenerating {j + 1:,}/{n:,} ({(j + 1) / (time.perf_counter() - t):,.0f}/s)",
                      end="", file=sys.stderr)
        fh.write("".join(buf))
    print(file=sys.stderr)


def run_child(code: str, *args: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr)
    return out.stdout.split()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n", type=int, default=10_000_000)
    ap.add_argument("--baseline-n", type=int, default=1_000_000)
    ap.add_argument("--workdir", type=Path, default=None)
    args = ap.parse_args()
    work = args.workdir or Path(tempfile.mkdtemp(prefix="ctrlrec-bench-"))
    raw = work / "raw"
    if not (raw / "Movies_and_TV.json.gz").exists():
        generate(raw, args.n)
    size = (raw / "Movies_and_TV.json.gz").stat().st_size / 2**20
    print(f"input: {args.n:,} reviews, {size:,.0f} MiB gzip, in {raw}")
    n_raw, secs, peak, kept, users, items = run_child(CHILD_CTRLREC, str(raw))
    ours_rate = int(n_raw) / float(secs)
    print(f"ctrlrec prepare: {int(n_raw):,} rows in {float(secs):.1f} s = {ours_rate:,.0f} rows/s, "
          f"peak memory {float(peak):,.0f} MiB; kept {int(kept):,} interactions, "
          f"{int(users):,} users, {int(items):,} items (5-core)")
    bn, bsecs, bpeak = run_child(CHILD_BASELINE, str(raw / "Movies_and_TV.json.gz"),
                                 str(args.baseline_n))
    base_rate = int(bn) / float(bsecs)
    print(f"baseline pandas.read_json on the first {args.baseline_n:,} lines: "
          f"{base_rate:,.0f} rows/s, peak memory {float(bpeak):,.0f} MiB")
    per_m_ours = float(peak) / (int(n_raw) / 1e6)
    per_m_base = float(bpeak) / (args.baseline_n / 1e6)
    print(f"ratio: speed x{ours_rate / base_rate:.2f}; peak memory per million rows "
          f"{per_m_ours:,.0f} MiB vs {per_m_base:,.0f} MiB (x{per_m_base / per_m_ours:.1f} less)")
    if args.workdir is None:
        os.system(f"rm -rf '{work}'")


if __name__ == "__main__":
    main()
