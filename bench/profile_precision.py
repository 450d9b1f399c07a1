"""fp32 vs bf16 profile generation on CPU, side by side (the build's hot loop).

    python bench/profile_precision.py [--model smollm2-135m | RUN] [--users 32] [--batch-size 16]
                                      [--threads 2] [--prompt single|collaborative]

Both write the shape-constrained profiles of the same first users of ml-100k's random split with
the same model, greedy, in the same process, fp32 first, then bf16 (the model loaded again in
bf16), then fp32 once more (so a machine whose load changed during the run shows up as two fp32
times that disagree). It prints seconds and profiles/s for each, the ratio of bf16 to the mean
fp32 time, and how many profiles are identical in both precisions and in shape.
Nothing is cached between the runs.
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

import torch  # noqa: E402

from ctrlrec.llm.device import Placement  # noqa: E402
from ctrlrec.llm.models import load_any  # noqa: E402
from ctrlrec.profiles import shape  # noqa: E402
from ctrlrec.profiles.build import first_profile, user_prompts  # noqa: E402
from ctrlrec.profiles.cache import GenerationCache, generate_cached  # noqa: E402
from ctrlrec.profiles.config import ProfilesConfig  # noqa: E402
from ctrlrec.profiles.constrain import heads  # noqa: E402
from ctrlrec.profiles.context import build_context  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--prompt", default="single", choices=("single", "collaborative"))
    ap.add_argument("--cf-run", default=None, help="LightGCN run for neighbours (collaborative prompt)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ctx = build_context(ProfilesConfig(dataset="ml-100k", users=a.users, cf_run=a.cf_run))
    users = ctx.users
    prompts = user_prompts(ctx, users, a.prompt)
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        for n, precision in enumerate(("fp32", "bf16", "fp32")):
            model, tok = load_any(a.model, Placement("cpu", precision), merge=True)
            cache = GenerationCache(Path(tmp) / f"{n}.jsonl")
            t = time.perf_counter()
            out = generate_cached(model, tok, prompts, cache, "bench", a.batch_size, 48, desc=precision,
                                  heads=heads(users, a.prompt))
            runs.append((precision, time.perf_counter() - t, [first_profile(x, u) for x, u in
                                                               zip(out, users, strict=True)]))
            del model
    print(f"{a.model}: {len(users)} users, {a.prompt} prompt, batch {a.batch_size}, {a.threads} threads")
    for precision, sec, out in runs:
        valid = sum(shape.is_valid(x) for x in out)
        print(f"{precision:5s} {sec:6.1f} s  {len(out) / sec:.2f} profiles/s  in shape {valid}/{len(out)}")
    fp32 = (runs[0][1] + runs[2][1]) / 2
    same = sum(x == y for x, y in zip(runs[0][2], runs[1][2], strict=True))
    print(f"bf16 / fp32 time: {runs[1][1] / fp32:.2f}x  (fp32 speed-up of bf16: {fp32 / runs[1][1]:.2f}x)")
    print(f"identical profiles fp32 vs bf16: {same}/{len(users)}; fp32 vs fp32 again: "
          f"{sum(x == y for x, y in zip(runs[0][2], runs[2][2], strict=True))}/{len(users)}")
    for (_, _, a32), (_, _, a16) in [(runs[0], runs[1])]:
        for u, x, y in list(zip(users, a32, a16, strict=True))[:2]:
            print(f"user {u}\n  fp32: {x}\n  bf16: {y}")


if __name__ == "__main__":
    main()
