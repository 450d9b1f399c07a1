import numpy as np
import pandas as pd
import pytest

from ctrlrec.data.build import FilterConfig, InteractionBuilder, canonicalize, kcore


def _items(n):
    return pd.DataFrame(
        {"source_id": [f"i{j}" for j in range(n)], "title": [f"T{j}" for j in range(n)],
         "categories": [["A"] if j % 2 else ["B", "A"] for j in range(n)]}
    )


def test_dedup_keeps_earliest_and_sorts_stably_by_time():
    b = InteractionBuilder()
    b.add("u", "i2", 30)
    b.add("u", "i0", 10)
    b.add("u", "i2", 5)  # earlier duplicate of i2: this one is kept
    b.add("u", "i1", 10)  # same time as i0, later in the file: stays after i0
    ds = canonicalize("t", b, _items(3), FilterConfig(0, 0))
    assert ds.interactions["timestamp"].tolist() == [5, 10, 10]
    titles = ds.catalog.set_index("item_id").loc[ds.sequences[0], "title"].tolist()
    assert titles == ["T2", "T0", "T1"]
    assert ds.meta["raw"]["duplicates_removed"] == 1


def test_kcore_is_iterative():
    # item 2 has one interaction; removing it leaves user 1 with one item, so user 1 goes too,
    # which then leaves item 1 with a single interaction: everything of user 1 and item 1 goes.
    users = np.array([0, 0, 0, 1, 1, 2, 2, 2])
    items = np.array([0, 1, 3, 1, 2, 0, 3, 1])
    keep = kcore(users, items, user_core=2, item_core=2)
    assert keep.tolist() == [True, True, True, False, False, True, True, True]
    keep = kcore(users, items, user_core=3, item_core=2)
    kept = set(zip(users[keep].tolist(), items[keep].tolist(), strict=True))
    assert kept == {(0, 0), (0, 1), (0, 3), (2, 0), (2, 3), (2, 1)}
    assert kcore(users, items, 0, 0).all()


def test_unknown_items_dropped_and_ids_dense():
    b = InteractionBuilder()
    for u in ("b", "a"):
        for j, it in enumerate(["i0", "i3", "zz", "i1"]):
            b.add(u, it, j)
    ds = canonicalize("t", b, _items(4), FilterConfig(0, 0))
    assert ds.meta["raw"]["unknown_item_interactions"] == 2
    assert ds.catalog["item_id"].tolist() == list(range(3))
    assert ds.catalog["source_id"].tolist() == ["i0", "i1", "i3"]  # catalog order kept
    assert ds.users["source_id"].tolist() == ["a", "b"]  # users in key order
    assert set(ds.interactions["item_id"]) == {0, 1, 2}


def test_leave_one_out_split():
    b = InteractionBuilder()
    for j in range(5):
        b.add("long", f"i{j}", j)
    b.add("short", "i0", 1)
    b.add("short", "i1", 2)
    ds = canonicalize("t", b, _items(5), FilterConfig(0, 0))
    sp = ds.split
    long_u = int(ds.users.index[ds.users["source_id"] == "long"][0])
    short_u = 1 - long_u
    assert sp.eval_users.tolist() == [long_u]
    assert sp.train[long_u].tolist() == [0, 1, 2]
    assert sp.valid_target.tolist() == [3] and sp.test_target.tolist() == [4]
    assert sp.test_history(long_u, ds.sequences).tolist() == [0, 1, 2, 3]
    assert sp.train[short_u].tolist() == [0, 1]  # too short to evaluate: training only


def test_category_matrix_and_order():
    b = InteractionBuilder()
    for j in range(4):
        b.add("u", f"i{j}", j)
    ds = canonicalize("t", b, _items(4), FilterConfig(0, 0))
    assert ds.categories == ["A", "B"]
    assert ds.category_matrix[0].all()
    assert ds.category_matrix[1].tolist() == [True, False, True, False]


@pytest.mark.parametrize("core", [0, 1])
def test_filter_disabled(core):
    assert kcore(np.array([0]), np.array([0]), core, core).tolist() == [True]


def test_duplicate_titles_merge_into_the_first_item():
    items = pd.DataFrame({"source_id": ["a", "b", "c"], "title": ["Same (1997)", "Other", "Same (1997)"],
                          "categories": [["Drama"], ["Comedy"], ["Romance", "Drama"]]})
    b = InteractionBuilder()
    b.add("u", "c", 1)
    b.add("u", "b", 2)
    b.add("u", "a", 3)  # the same movie again under its other id: a duplicate interaction
    b.add("v", "c", 1)
    ds = canonicalize("t", b, items, FilterConfig(0, 0))
    assert ds.catalog["title"].tolist() == ["Same (1997)", "Other"]
    assert ds.catalog["categories"].iloc[0] == ["Drama", "Romance"]
    assert ds.sequences[0].tolist() == [0, 1] and ds.sequences[1].tolist() == [0]
    assert ds.meta["raw"]["items_merged_by_title"] == 1
    kept = canonicalize("t", b, items, FilterConfig(0, 0, merge_duplicate_titles=False))
    assert kept.n_items == 3


def test_a_placeholder_category_is_not_mixed_into_real_ones():
    items = pd.DataFrame({"source_id": ["a", "b", "c", "d"],
                          "title": ["Same", "Same", "Lone", "Lone"],
                          "categories": [["(no genres listed)"], ["Drama"],
                                         ["(no genres listed)"], ["(no genres listed)"]]})
    b = InteractionBuilder()
    for j, code in enumerate("abcd"):
        b.add("u", code, j)
    ds = canonicalize("t", b, items, FilterConfig(0, 0))
    assert ds.catalog["categories"].tolist() == [["Drama"], ["(no genres listed)"]]
    assert ds.meta["raw"]["merged_titles_examples"] == ["Same", "Lone"]
