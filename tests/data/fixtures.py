"""Small raw files in exactly the published formats of each source, quirks included."""

from __future__ import annotations

import gzip
import json
from pathlib import Path


def write_gz(path: Path, lines: list[str]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for line in lines:
            fh.write(line + "\n")
    return path


def movielens_100k(raw: Path, users: int = 6, items: int = 8) -> Path:
    """RecBole atomic files in the ml-100k layout (title and year in separate columns)."""
    raw.mkdir(parents=True, exist_ok=True)
    genres = ["Action Comedy", "Drama", "Comedy Romance", "Horror Thriller", "Sci-Fi",
              "Children's Animation", "Film-Noir", "Documentary"]
    item_lines = ["item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq"]
    for i in range(1, items + 1):
        item_lines.append(f"{i}\tMovie {i}\t{1990 + i}\t{genres[(i - 1) % len(genres)]}")
    item_lines.append(f"{items + 1}\tunknown\t\tunknown")  # ml-100k's own 'unknown' item
    (raw / "ml-100k.item").write_text("\n".join(item_lines) + "\n")
    inter = ["user_id:token\titem_id:token\trating:float\ttimestamp:float"]
    t = 880000000
    for u in range(1, users + 1):
        for i in range(1, items + 1):
            if (u + i) % 3 != 0:
                t += 1
                inter.append(f"{u}\t{i}\t{(u * i) % 5 + 1}\t{t}")
    inter.append(f"1\t{items + 1}\t3\t{t + 5}")
    (raw / "ml-100k.inter").write_text("\n".join(inter) + "\n")
    return raw


STEAM_GAMES = [
    "{u'publisher': u'Kotoshiro', u'genres': [u'Action', u'Casual', u'Indie'], "
    "u'app_name': u'Lost Summoner Kitty', u'title': u'Lost Summoner Kitty', "
    "u'url': u'http://store.steampowered.com/app/761140/', u'release_date': u'2018-01-04', "
    "u'tags': [u'Strategy', u'Action', u'Indie'], u'price': 4.99, u'early_access': False, "
    "u'id': u'761140', u'developer': u'Kotoshiro'}",
    "{u'genres': [u'Free to Play', u'Indie', u'RPG'], u'app_name': u'Ironbound', "
    "u'tags': [u'Free to Play', u'Strategy'], u'id': u'643980', u'price': u'Free To Play'}",
    # HTML entity in the title, no genres but tags
    "{u'app_name': u'Tom &amp; Jerry&#39;s Quest', u'tags': [u'Shooter', u'Action'], "
    "u'id': u'670290'}",
    # no title at all -> dropped
    "{u'genres': [u'Action'], u'id': u'767400', u'tags': [u'Action']}",
    # no category at all -> dropped
    "{u'app_name': u'Uncategorised', u'id': u'773570'}",
    # duplicate id (first kept)
    "{u'app_name': u'Lost Summoner Kitty DUP', u'genres': [u'Action'], u'id': u'761140'}",
    # no id
    "{u'app_name': u'No Id Game', u'genres': [u'Action']}",
]


def steam(raw: Path, n_users: int = 6) -> Path:
    games = ["761140", "643980", "670290", "767400", "773570"]
    reviews = []
    for u in range(n_users):
        for j, g in enumerate(games):
            reviews.append(
                f"{{u'username': u'user {u}', u'hours': 0.1, u'products': 41, u'product_id': u'{g}', "
                f"u'page_order': 0, u'date': u'2017-12-{1 + j + u:02d}', u'text': u'It\\'s fun', "
                "u'early_access': False, u'page': 1}"
            )
    reviews.append(reviews[0])  # a duplicate review
    reviews.insert(3, "this is not a python literal {")
    reviews.insert(5, "{u'username': u'x', u'product_id': u'761140'}")  # no date
    write_gz(raw / "steam_games.json.gz", STEAM_GAMES)
    write_gz(raw / "steam_reviews.json.gz", reviews)
    return raw


AMAZON_META = [
    {"category": ["Movies & TV", "Art House & International", "By Original Language", "Chinese"],
     "title": "Ip Man 2", "asin": "B003UESJH4", "description": ["A film."], "price": "$9.99"},
    {"category": ["Movies & TV", "Genre for Featured Categories", "Comedy"],
     "title": "Tom &amp; Jerry&#39;s Movie", "asin": "B00005JKZY"},
    {"category": ["Movies & TV", "Genre for Featured Categories", "Horror"],
     "title": "Dawn of the Dead", "asin": "0783226128"},
    {"category": ["Movies & TV", "Art House & International", "By Original Language", "Chinese"],
     "title": "Fong Sai Yuk VHS", "asin": "6304489783"},
    {"category": [], "title": "No Category", "asin": "B000000001"},
    {"category": ["Movies & TV", "Movies"], "title": "", "asin": "B000000002"},
    {"category": ["Movies & TV", "Movies"], "title": "Dup", "asin": "B003UESJH4"},
]


def amazon(raw: Path, n_users: int = 6) -> Path:
    asins = [m["asin"] for m in AMAZON_META[:4]] + ["B000000001", "B000000002"]
    reviews = []
    for u in range(n_users):
        for j, a in enumerate(asins):
            reviews.append(json.dumps({
                "overall": 5.0, "verified": True, "reviewTime": "11 9, 2012",
                "reviewerID": f"A{u:03d}XYZ", "asin": a, "reviewerName": "Terri",
                "reviewText": "Great", "summary": "ok", "unixReviewTime": 1352419200 + 86400 * (j + u),
            }))
    reviews.append(reviews[1])  # duplicate review
    reviews.insert(2, '{"reviewerID": "A1", "asin": "B003UESJH4"')  # truncated JSON
    reviews.insert(4, json.dumps({"reviewerID": "A1", "asin": "B003UESJH4"}))  # no time
    write_gz(raw / "meta_Movies_and_TV.json.gz", [json.dumps(m) for m in AMAZON_META])
    write_gz(raw / "Movies_and_TV.json.gz", reviews)
    return raw
