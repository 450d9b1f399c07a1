"""A control column for the profile ablation: every user gets the same profile.

Produces docs/results.md, 'User profiles', the at-a-glance table's row 'control: one profile for
everyone' (run by bench/profiles_ablation.sh).

A profile column can lift a CF model for two reasons: what the profiles say about each user, or
only that every user's embedding gains a learned side term. When the profiles are nearly all alike
(the degenerate builds of docs/results.md), that term is nearly one vector c for every user, and
LightGCN's score u.v gains c.v, an item prior that the text-projected cold items also get. This
writes a `profiles build`-shaped run in which *every* user has one profile, so `cf compare` can put
that control beside a real build:

    python bench/constant_profiles.py --like runs/prof-rl-build-cold-item --out runs/prof-const-cold-item
    ctrlrec cf compare ... --side profiles-rl,profiles-const \
        --profiles "rl=runs/prof-rl-build-{split},const=runs/prof-const-{split}"

The profile is the source run's most frequent one (or --text). The manifest copies the source's
dataset, split and seed (so `cf compare` accepts it) and records where the text came from.
"""

from __future__ import annotations

import argparse
import json
from collections import Counter
from pathlib import Path

from ctrlrec.atomic import atomic_dir, write_json, write_jsonl
from ctrlrec.profiles import shape


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--like", required=True, help="a `ctrlrec profiles build` run: its users and split")
    ap.add_argument("--out", required=True)
    ap.add_argument("--text", default=None, help="the profile for everyone (default: the most frequent)")
    a = ap.parse_args()
    src = Path(a.like)
    users_file, mf_file = src / "users.jsonl", src / "manifest.json"
    if not users_file.is_file() or not mf_file.is_file():
        raise SystemExit(f"--like {src}: expected a `ctrlrec profiles build` run "
                         "(users.jsonl, manifest.json)")
    rows = [json.loads(line) for line in users_file.read_text(encoding="utf-8").splitlines() if line.strip()]
    counts = Counter(r["profile"] for r in rows)
    text, n = (a.text, counts.get(a.text, 0)) if a.text is not None else counts.most_common(1)[0]
    manifest = json.loads(mf_file.read_text(encoding="utf-8"))
    out = {
        "stage": "profiles-constant",
        "config": manifest["config"],
        "split": manifest.get("split"),
        "source": str(src),
        "source_distinct_profiles": len(counts),
        "profile": text,
        "source_users_with_it": n,
        "users": len(rows),
    }
    with atomic_dir(a.out) as tmp:
        valid = shape.is_valid(text)
        write_jsonl(tmp / "users.jsonl", [{"user": r["user"], "profile": text, "valid": valid} for r in rows])
        write_json(tmp / "manifest.json", out)
    print(f"{len(rows)} users, one profile ({n} of them had it in {src}, {len(counts)} distinct there): "
          f"{text!r}")


if __name__ == "__main__":
    main()
