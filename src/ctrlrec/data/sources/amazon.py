"""Amazon review data (2018), one category: `<Category>.json.gz` and `meta_<Category>.json.gz`.

Reviews give `reviewerID`, `asin`, `unixReviewTime`; metadata gives `asin`, `title`, `category` (a
path such as ["Movies & TV", "Art House & International", "By Original Language", "Chinese"]).
Categories are the hierarchical prefixes of that path joined with ", " — as the paper's code does — so
an item has several; the root ("Movies & TV", on every item) is dropped unless `keep_root`.
Items without a title or a category are dropped. Option `category` names the file stem
(default Movies_and_TV). The paper filters 25-core users and 10-core items (the default here too).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ctrlrec.data.badlines import BadLines
from ctrlrec.data.build import FilterConfig, InteractionBuilder
from ctrlrec.data.readers import numbered_lines
from ctrlrec.data.registry import RawRead, Source, register
from ctrlrec.data.sources._common import clean_title, parse_record

_REV_EXPECTED = "Amazon 2018 reviews: one JSON object per line with reviewerID, asin, unixReviewTime"
_META_EXPECTED = "Amazon 2018 metadata: one JSON object per line with asin, title, category"


def category_prefixes(path, keep_root: bool = False) -> list[str]:
    """["A", "B", "C"] -> ["B", "B, C"] (root dropped) or ["A", "A, B", "A, B, C"]."""
    if not isinstance(path, list):
        return []
    parts = [clean_title(p) for p in path]
    parts = [p for p in parts if p]
    if not keep_root:
        parts = parts[1:]
    return [", ".join(parts[: j + 1]) for j in range(len(parts))]


def read(
    raw: Path, strict: bool = False, category: str = "Movies_and_TV", keep_root: bool = False
) -> RawRead:
    reviews, meta = Path(raw) / f"{category}.json.gz", Path(raw) / f"meta_{category}.json.gz"
    bad_m = BadLines(meta, _META_EXPECTED, strict)
    rows, seen = [], set()
    for n, line in numbered_lines(meta, _META_EXPECTED):
        try:
            rec = parse_record(line, python_literal=False)
        except ValueError as exc:
            bad_m.add(n, str(exc))
            continue
        asin = rec.get("asin")
        if not asin:
            bad_m.add(n, "no asin")
            continue
        title = clean_title(rec.get("title"))
        cats = category_prefixes(rec.get("category"), keep_root)
        if asin in seen or not title or not cats:
            continue
        seen.add(asin)
        rows.append((str(asin), title, cats))
    items = pd.DataFrame(rows, columns=["source_id", "title", "categories"])

    bad_r = BadLines(reviews, _REV_EXPECTED, strict)
    builder = InteractionBuilder()
    for n, line in numbered_lines(reviews, _REV_EXPECTED):
        try:
            rec = parse_record(line, python_literal=False)
            builder.add(str(rec["reviewerID"]), str(rec["asin"]), int(rec["unixReviewTime"]))
        except KeyError as exc:
            bad_r.add(n, f"missing field {exc}")
        except (ValueError, TypeError) as exc:
            bad_r.add(n, str(exc) or type(exc).__name__)
    return RawRead(builder, items, [bad_m, bad_r], {"category": category, "keep_root": keep_root})


register(
    Source(
        name="amazon",
        description="Amazon reviews 2018 per category (default Movies_and_TV); bring the .json.gz files",
        default_filter=FilterConfig(user_core=25, item_core=10),
        read=read,
        license="Amazon review data (Ni, Li & McAuley 2019): research use, cite the EMNLP 2019 paper.",
    )
)
