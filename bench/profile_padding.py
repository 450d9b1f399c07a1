"""How much of a profile build's batches is padding, in user order (as `generate_cached` batches
them) and with the prompts sorted by length across batches. Tokenizes every user's prompt of a
split, single-round and collaborative; no model runs.

    python bench/profile_padding.py --split random --cf-run runs/cf-ablation-ml-100k/random-lightgcn-none \
        --tokenizer runs/prof-train-random/two-round/tokenizer
"""

from __future__ import annotations

import argparse

import numpy as np


def padding(lengths: np.ndarray, order: np.ndarray, batch: int) -> tuple[float, int]:
    """(padding share, padded tokens) of batching `lengths` in `order`."""
    total = pad = 0
    for s in range(0, len(order), batch):
        chunk = lengths[order[s:s + batch]]
        total += int(chunk.max()) * len(chunk)
        pad += int((chunk.max() - chunk).sum())
    return pad / total, total


def main() -> None:
    from transformers import AutoTokenizer

    from ctrlrec.llm.chat import prompt_text
    from ctrlrec.profiles.build import user_prompts
    from ctrlrec.profiles.config import ProfilesConfig
    from ctrlrec.profiles.context import build_context

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--split", default="random")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--cf-run", default=None)
    ap.add_argument("--tokenizer", required=True, help="a tokenizer folder (e.g. a tuned run's tokenizer/)")
    ap.add_argument("--batch-size", type=int, default=16)
    a = ap.parse_args()
    ctx = build_context(ProfilesConfig(dataset=a.dataset, split=a.split, seed=a.seed, cf_run=a.cf_run))
    tok = AutoTokenizer.from_pretrained(a.tokenizer)
    for kind in ("single", "collaborative"):
        lengths = np.array([len(tok(prompt_text(tok, p))["input_ids"])
                            for p in user_prompts(ctx, ctx.users, kind)])
        plain, t0 = padding(lengths, np.arange(len(lengths)), a.batch_size)
        ranked, t1 = padding(lengths, np.argsort(-lengths), a.batch_size)
        print(f"{kind}: {len(lengths)} prompts, mean {lengths.mean():.0f} tokens "
              f"({lengths.min()}-{lengths.max()}); "
              f"padding {plain:.3f} in user order, {ranked:.3f} sorted; sorted/plain tokens {t1 / t0:.3f}")


if __name__ == "__main__":
    main()
