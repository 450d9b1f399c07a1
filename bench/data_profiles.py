"""A control column for the profile ablation: every user's data-written profile, no LLM.

Produces docs/results.md, 'User profiles', the at-a-glance table's row 'control: data-written
profiles' (run by bench/profiles_ablation.sh).

On CPU the self teacher's targets are the data-written profiles (`ctrlrec.profiles.facts`: activity,
taste, era; the three most frequent categories), so a tuned model at best imitates them. This writes
them for every user of a split, from that split's training interactions only, as a `profiles
build`-shaped run, so `cf compare` can show what the targets themselves are worth as side vectors:
the ceiling of imitation, beside the constant control (`bench/constant_profiles.py`).

    python bench/data_profiles.py --split cold-item --out runs/prof-data-cold-item
    ctrlrec cf compare ... --side profiles-data --profiles "data=runs/prof-data-{split}"
"""

from __future__ import annotations

import argparse
import time

from ctrlrec.atomic import atomic_dir, write_json, write_jsonl
from ctrlrec.cf.splits import make_split
from ctrlrec.data import load
from ctrlrec.manifest import manifest
from ctrlrec.profiles import shape
from ctrlrec.profiles.config import ProfilesConfig
from ctrlrec.profiles.context import histories_of
from ctrlrec.profiles.facts import Facts


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--split", default="random")
    ap.add_argument("--seed", type=int, default=2024)
    ap.add_argument("--cold-share", type=float, default=0.2)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cfg = ProfilesConfig(dataset=a.dataset, split=a.split, seed=a.seed, cold_share=a.cold_share, model="data")
    t0 = time.perf_counter()
    ds = load(cfg.dataset)
    split = make_split(ds, cfg.split, seed=cfg.seed, cold_share=cfg.cold_share)
    hist = histories_of(split.train, split.n_users, ds.interactions)
    facts = Facts(ds.catalog, hist)
    rows = [{"user": u, "profile": (p := facts.profile(h)), "valid": shape.is_valid(p),
             "history": h[-cfg.history_cap:]} for u, h in enumerate(hist) if h]
    seconds = time.perf_counter() - t0
    info = manifest("profiles-data", cfg.to_dict(), cfg.seed, model="data", prompt=None, tuned="none",
                    split=split.summary(), users=len(rows), items=0,
                    valid_share=sum(r["valid"] for r in rows) / max(len(rows), 1),
                    distinct_profiles=len({r["profile"] for r in rows}), generated_users=len(rows),
                    user_seconds=seconds, profiles_per_s=len(rows) / seconds if seconds > 0 else None)
    with atomic_dir(a.out) as tmp:
        write_jsonl(tmp / "users.jsonl", rows)
        write_json(tmp / "manifest.json", info)
    print(f"{len(rows)} users, {info['distinct_profiles']} distinct profiles, {seconds:.1f} s -> {a.out}")


if __name__ == "__main__":
    main()
