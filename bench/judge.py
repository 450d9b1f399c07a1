"""Round-2 judging with and without shared prefixes (`ctrlrec.profiles.judge.log_odds`), side by side.

Produces docs/results.md, 'User profiles', row 'round-2 judging with shared prefixes'.

    python bench/judge.py [--dataset ml-100k] [--users 32] [--batch-size 16] [--threads 2]

The conversations are those of the self teacher's ranking: each user's single-round prompt, a
profile (the data-written one of `ctrlrec.profiles.facts`), then the two round-2 questions (the
held-out item and the negative). Both paths judge the same conversations on the bundled model, in
the same process, plain first; the script prints seconds for each, the ratio, and the largest
difference between their log-odds (they must agree).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))  # this checkout's ctrlrec

import numpy as np  # noqa: E402
import torch  # noqa: E402

from ctrlrec.llm.device import choose  # noqa: E402
from ctrlrec.llm.models import load  # noqa: E402
from ctrlrec.profiles import rounds  # noqa: E402
from ctrlrec.profiles.config import ProfilesConfig  # noqa: E402
from ctrlrec.profiles.context import build_context  # noqa: E402
from ctrlrec.profiles.facts import Facts  # noqa: E402
from ctrlrec.profiles.judge import log_odds  # noqa: E402
from ctrlrec.profiles.prompts import question, with_question  # noqa: E402
from ctrlrec.profiles.samples import single_prompt  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--users", type=int, default=32)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    ctx = build_context(ProfilesConfig(dataset=a.dataset, users=0))
    facts = Facts(ctx.ds.catalog, ctx.histories)
    users = [u for u in ctx.users if u in ctx.round2][: a.users]
    convs = []
    for u in users:
        profile = facts.profile(rounds.without(ctx.histories[u], ctx.round2[u].held_out))
        for item, _ in ctx.round2[u].questions():
            convs.append(with_question(single_prompt(ctx, u), profile, question(ctx.text, u, item)))
    model, tok = load(placement=choose("cpu"))
    seconds, scores = {}, {}
    for shared in (False, True):
        t = time.perf_counter()
        scores[shared] = log_odds(model, tok, convs, a.batch_size, progress=True, shared=shared)
        seconds[shared] = time.perf_counter() - t
    print(f"{len(users)} users, {len(convs)} questions, batch {a.batch_size}, {a.threads} threads")
    print(f"plain:  {seconds[False]:.1f} s ({len(convs) / seconds[False]:.2f} questions/s)")
    print(f"shared: {seconds[True]:.1f} s ({len(convs) / seconds[True]:.2f} questions/s)")
    print(f"speed-up: {seconds[False] / seconds[True]:.2f}x; "
          f"largest log-odds difference {np.abs(scores[True] - scores[False]).max():.2e}")


if __name__ == "__main__":
    main()
