"""A user's profile beside the history it was written from (`ctrlrec profiles show`, docs examples)."""

from __future__ import annotations

import json
from pathlib import Path

from ctrlrec.errors import CtrlrecError


def user_view(run: str | Path, user: int) -> dict:
    run = Path(run)
    users, mf = run / "users.jsonl", run / "manifest.json"
    if not users.is_file() or not mf.is_file():
        raise CtrlrecError(f"--profiles {run}: expected a `ctrlrec profiles build` run (users.jsonl)")
    row = None
    with users.open(encoding="utf-8") as fh:
        for line in fh:
            r = json.loads(line)
            if int(r["user"]) == user:
                row = r
                break
    if row is None:
        raise CtrlrecError(f"--user {user}: not in {users}; expected a user id the build profiled")
    cfg = json.loads(mf.read_text())["config"]
    from ctrlrec.data import load
    from ctrlrec.profiles.prompts import ItemText

    text = ItemText(load(cfg["dataset"]).catalog)
    return {"dataset": cfg["dataset"], "split": cfg["split"], "profile": row["profile"],
            "history": [text.line(i) for i in row["history"]], "neighbours": row["neighbours"],
            "source": row["neighbour_source"]}
