"""`ctrlrec report`: Markdown and a self-contained HTML page from evaluation folders.

The output folder gets report.md (figures linked as PNG files beside it), report.html (the same
content with the PNGs embedded as base64, readable offline as one file) and the PNGs.
"""

from __future__ import annotations

import base64
import html
import json
import time
from pathlib import Path

from ctrlrec.atomic import atomic_file
from ctrlrec.errors import CtrlrecError, InputFileError
from ctrlrec.eval import plots, tables

FIGURE_TITLES = {
    "compliance": "Compliance per intent kind",
    "control_effect": "With and without the control sentence",
    "formatting": "Formatting errors",
    "count_vs_k": "Compliance against k (count test)",
}

READING = (
    "HR@K and NDCG@K: accuracy on the held-out item (fractions). TCP@10: share of distinct listed "
    "items in the instruction's category (↑ for I1+, ↓ for I1-). CPA: share of lists whose count "
    "in the category obeys the I2 instruction. Formatting metrics are shares of the first k lines. "
    "Every metric is defined once in ctrlrec.scoring (shared/spec/scoring.md); an empty answer "
    "counts as a miss and is never dropped. 'a (b)': with the control sentence, (without it)."
)


def load_run(path: Path) -> tuple[str, dict]:
    """(label, summary) of an evaluation folder (or a summary.json file)."""
    p = Path(path)
    f = p / "summary.json" if p.is_dir() else p
    if not f.is_file():
        raise InputFileError(f, "an evaluation folder written by `ctrlrec eval` (with summary.json)",
                             "not found")
    s = json.loads(f.read_text())
    label = s.get("label") or (s.get("recommender") or {}).get("name") or p.name
    return label, s


def check_same_testsets(runs: list[tuple[str, dict]], paths: list[Path]) -> None:
    """Refuse to put runs side by side whose test sets of the same name differ (each run records the
    sha256 of every test-set file it read; a run without hashes is not checked)."""
    seen: dict[str, tuple[str, Path]] = {}
    for (_label, s), path in zip(runs, paths, strict=True):
        hashes, split = s.get("testsets_sha256") or {}, s.get("split", "test")
        for name in s.get("sets") or {}:
            digest = hashes.get(f"{split}/{name}", hashes.get(name))
            if digest is None:
                continue
            name = f"{name} ({split})" if split != "test" else name
            if name in seen and seen[name][0] != digest:
                raise CtrlrecError(
                    f"test set {name}: {path} was evaluated on a different file (sha256 {digest[:12]}) "
                    f"than {seen[name][1]} ({seen[name][0][:12]}); expected runs on the same test sets "
                    "(evaluate both against one `ctrlrec tasks testset` folder)")
            seen.setdefault(name, (digest, path))


def _models(runs: list[tuple[str, dict]]) -> tuple[list[str], list[list[str]]]:
    head = ["model", "recommender", "dataset", "test sets built with", "cases/set", "cases/s"]
    rows = []
    for label, s in runs:
        r = s.get("recommender", {})
        what = r.get("model") or r.get("ranker") or ""
        desc = f"{r.get('kind', '')} {what}".strip()
        if r.get("backend"):
            desc += f" ({r['backend']}, max_new_tokens {r.get('generation', {}).get('max_new_tokens')})"
        ns = sorted({(e.get("control") or {}).get("n", 0) for e in s.get("sets", {}).values()})
        t = s.get("timing", {})
        rate = f"{t['cases'] / t['total_s']:.2f}" if t.get("cases") and t.get("total_s") else "–"
        rows.append([label, desc, s.get("dataset", ""), str(s.get("testsets_teacher", "")),
                     "/".join(map(str, ns)), rate])
    return head, rows


def _md_table(head: list[str], rows: list[list[str]]) -> str:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def markdown(title: str, runs, tabs: list[tables.Table], figs: dict[str, Path]) -> str:
    parts = [f"# {title}", "", f"Generated {time.strftime('%Y-%m-%d %H:%M')} by `ctrlrec report`.",
             "", "## Models", "", _md_table(*_models(runs)), READING, "", "## Tables", ""]
    parts += [tables.markdown(t) for t in tabs]
    parts += ["## Figures", ""]
    parts += [f"### {FIGURE_TITLES[k]}\n\n![{k}]({p.name})\n" for k, p in figs.items()]
    return "\n".join(parts)


_CSS = """body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em;font-size:13px}
th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}th{background:#f3f3f3}
td:first-child,th:first-child{text-align:left}tr.ref td{color:#777;font-style:italic}
tr.sep td{background:#fafafa;text-align:left;font-weight:600}
.note{color:#555;font-size:13px}img{max-width:100%;border:1px solid #eee}"""


def _html_table(head: list[str], rows: list[list[str]], ref: list[list[str]] | None = None,
                cls: str = "") -> str:
    e = html.escape
    out = [f'<table class="{cls}"><thead><tr>' + "".join(f"<th>{e(h)}</th>" for h in head)
           + "</tr></thead><tbody>"]
    out += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in rows]
    if ref:
        out.append(f'<tr class="sep"><td colspan="{len(head)}">paper (Llama-2-7b; other datasets)'
                   "</td></tr>")
        out += ['<tr class="ref">' + "".join(f"<td>{e(c)}</td>" for c in r) + "</tr>" for r in ref]
    out.append("</tbody></table>")
    return "".join(out)


def html_page(title: str, runs, tabs: list[tables.Table], figs: dict[str, Path]) -> str:
    e = html.escape
    body = [f"<h1>{e(title)}</h1>",
            f"<p class=note>Generated {time.strftime('%Y-%m-%d %H:%M')} by <code>ctrlrec report</code>.</p>",
            '<h2 id="models">Models</h2>', _html_table(*_models(runs), cls="models"),
            f"<p class=note>{e(READING)}</p>", '<h2 id="tables">Tables</h2>']
    for t in tabs:
        body.append(f'<h3 id="table-{e(t.key)}">{e(t.title)}</h3>')
        body.append(_html_table(t.headers, [[lab, *c] for lab, c in t.rows],
                                [[lab, *c] for lab, c in t.reference], cls=f"table-{t.key}"))
        body += [f"<p class=note>{e(n)}</p>" for n in t.notes]
    body.append('<h2 id="figures">Figures</h2>')
    for k, p in figs.items():
        data = base64.b64encode(p.read_bytes()).decode()
        body.append(f'<h3>{e(FIGURE_TITLES[k])}</h3><img id="fig-{k}" alt="{k}" '
                    f'src="data:image/png;base64,{data}">')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>'
            f"<style>{_CSS}</style></head><body>{''.join(body)}</body></html>\n")


def write_report(run_dirs: list[Path], out: Path, title: str = "ctrlrec evaluation",
                 reference: bool = True) -> dict[str, Path]:
    """Write report.md, report.html and the figures into `out`; return their paths."""
    runs = [load_run(p) for p in run_dirs]
    check_same_testsets(runs, [Path(p) for p in run_dirs])
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    tabs = tables.build(runs, reference=reference)
    figs = plots.draw_all(runs, out)
    paths = {"markdown": out / "report.md", "html": out / "report.html"}
    with atomic_file(paths["markdown"]) as fh:
        fh.write(markdown(title, runs, tabs, figs))
    with atomic_file(paths["html"]) as fh:
        fh.write(html_page(title, runs, tabs, figs))
    return {**paths, **figs}
