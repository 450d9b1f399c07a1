import pandas as pd
import pytest

from ctrlrec.scoring import Catalog

# A tiny hand-made catalog: ids, titles, genres. Tests compute expected values from it by hand.
ROWS = [
    (0, "Heat (1995)", ["Action", "Crime"]),
    (1, "Fargo (1996)", ["Crime", "Drama"]),
    (2, "Scream (1996)", ["Horror"]),
    (3, "Alien (1979)", ["Horror", "Sci-Fi"]),
    (4, "Toy Story (1995)", ["Comedy"]),
    (5, "Casino (1995)", ["Crime", "Drama"]),
    (6, "Jaws (1975)", ["Horror", "Thriller"]),
    (7, "Babe (1995)", ["Comedy"]),
    (8, "Clueless (1995)", ["Comedy"]),
    (9, "Halloween (1978)", ["Horror"]),
]
ID = {title: i for i, title, _ in ROWS}


def frame(rows=ROWS) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["item_id", "title", "categories"])


@pytest.fixture
def cat() -> Catalog:
    return Catalog.from_frame(frame())


def numbered(*titles: str) -> str:
    return "\n".join(f"{i + 1}. {t}" for i, t in enumerate(titles))
