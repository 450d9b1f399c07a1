"""Free vs shape-constrained profile decoding (`ctrlrec.profiles.constrain`), side by side.

    python bench/profile_shape.py [--model smollm2-135m | RUN] [--users 32] [--batch-size 16] [--threads 2]

Both write the single-round profiles of the same first users of ml-100k's random split with the same
model, greedy, in the same process, free first (48 new tokens, the build's default) and then
constrained. The script prints for each: seconds, profiles/s, the share in shape (`shape.is_valid`)
and mean new characters; then the ratio of the times. Nothing is cached between the two.
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

from ctrlrec.llm.device import choose  # noqa: E402
from ctrlrec.llm.models import load_any  # noqa: E402
from ctrlrec.profiles import shape  # noqa: E402
from ctrlrec.profiles.build import user_prompts  # noqa: E402
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
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ctx = build_context(ProfilesConfig(dataset="ml-100k", users=a.users))
    users = ctx.users
    prompts = user_prompts(ctx, users, "single")
    model, tok = load_any(a.model, choose("cpu"), merge=True)
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name, h in (("free", None), ("constrained", heads(users))):
            cache = GenerationCache(Path(tmp) / f"{name}.jsonl")
            t = time.perf_counter()
            out = generate_cached(model, tok, prompts, cache, "bench", a.batch_size, 48, desc=name, heads=h)
            rows[name] = (time.perf_counter() - t, out)
    print(f"{a.model}: {len(users)} users, batch {a.batch_size}, {a.threads} threads")
    for name, (sec, out) in rows.items():
        valid = sum(shape.is_valid(x) for x in out)
        chars = sum(len(x) for x in out) / len(out)
        print(f"{name:12s} {sec:6.1f} s  {len(out) / sec:.2f} profiles/s  in shape {valid}/{len(out)}  "
              f"{chars:.0f} chars")
    print(f"constrained / free time: {rows['constrained'][0] / rows['free'][0]:.2f}x")
    print("example (constrained):", rows["constrained"][1][0])


if __name__ == "__main__":
    main()
