"""Steam (Kang & McAuley 2018): steam_reviews.json.gz and steam_games.json.gz.

Both files hold one Python literal per line (single quotes, u'' strings), not JSON; they are read with
ast.literal_eval, never eval. Reviews give `username`, `product_id`, `date` (YYYY-MM-DD); games give
`id`, `app_name` / `title`, `genres`, `tags`. Categories are the genres and/or tags (option
`categories`: genres, tags or both; default both, genres first).
The files are not redistributable here: download them from the authors' page and pass `--raw DIR`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ctrlrec.data.badlines import BadLines
from ctrlrec.data.build import FilterConfig, InteractionBuilder
from ctrlrec.data.readers import numbered_lines
from ctrlrec.data.registry import RawRead, Source, register
from ctrlrec.data.sources._common import clean_title, date_to_ts, parse_record
from ctrlrec.errors import CtrlrecError

REVIEWS = "steam_reviews.json.gz"
GAMES = "steam_games.json.gz"
_REV_EXPECTED = "Steam reviews: one Python-literal dict per line with username, product_id, date"
_GAME_EXPECTED = "Steam games: one Python-literal dict per line with id, app_name/title, genres, tags"
_CATEGORY_MODES = ("genres", "tags", "both")


def _categories(rec: dict, mode: str) -> list[str]:
    out: list[str] = []
    for key in ("genres", "tags") if mode == "both" else (mode,):
        vals = rec.get(key) or []
        if isinstance(vals, str):
            vals = [vals]
        for v in vals:
            v = clean_title(v)
            if v and v not in out:
                out.append(v)
    return out


def read(raw: Path, strict: bool = False, categories: str = "both") -> RawRead:
    if categories not in _CATEGORY_MODES:
        raise CtrlrecError(f"categories={categories!r}; expected one of {', '.join(_CATEGORY_MODES)}")
    reviews, games = Path(raw) / REVIEWS, Path(raw) / GAMES
    bad_g = BadLines(games, _GAME_EXPECTED, strict)
    rows, seen = [], set()
    for n, line in numbered_lines(games, _GAME_EXPECTED):
        try:
            rec = parse_record(line, python_literal=True)
        except ValueError as exc:
            bad_g.add(n, str(exc))
            continue
        gid = rec.get("id")
        if gid is None:
            bad_g.add(n, "no id")
            continue
        gid = str(gid)
        title = clean_title(rec.get("app_name")) or clean_title(rec.get("title"))
        cats = _categories(rec, categories)
        if gid in seen or not title or not cats:
            continue
        seen.add(gid)
        rows.append((gid, title, cats))
    items = pd.DataFrame(rows, columns=["source_id", "title", "categories"])

    bad_r = BadLines(reviews, _REV_EXPECTED, strict)
    builder = InteractionBuilder()
    for n, line in numbered_lines(reviews, _REV_EXPECTED):
        try:
            rec = parse_record(line, python_literal=True)
            user, item, date = rec["username"], rec["product_id"], rec["date"]
            ts = date_to_ts(date)
        except KeyError as exc:
            bad_r.add(n, f"missing field {exc}")
            continue
        except (ValueError, TypeError, AttributeError) as exc:
            bad_r.add(n, str(exc) or type(exc).__name__)
            continue
        builder.add(str(user), str(item), ts)
    return RawRead(builder, items, [bad_g, bad_r], {"categories": categories})


register(
    Source(
        name="steam",
        description="Steam reviews and games (Kang & McAuley 2018); bring the two .json.gz files",
        default_filter=FilterConfig(user_core=5, item_core=5),
        read=read,
        license="Steam data: research use, cite Kang & McAuley (ICDM 2018).",
    )
)
