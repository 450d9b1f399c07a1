"""The paper's tables (2, 3, 4, 5 and 7) built from evaluation summaries, plus reference rows.

A table is a list of columns, each one metric of one test set; rows are the evaluated models in the
order given, then the paper's published rows (`ctrlrec.eval.paper`) where the task matches. TCP and
CPA cells read "a (b)": with the control sentence, and in brackets the same model without it, as in
the paper. Percent metrics (TCP, CPA, formatting) are shown x100; HR and NDCG as fractions.
Nothing is computed here beyond formatting: every value is a mean from the summary.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ctrlrec.eval import paper

PCT = frozenset({"TCP", "CPA", "CorrectCount", "RepeatItem", "NonExist", "InHistory", "teacher_overlap",
                 "in_pool"})
GUARDS = frozenset({"teacher_overlap", "in_pool"})  # read from a summary's "guards", not its metrics


@dataclass(frozen=True)
class Col:
    set: str
    metric: str
    header: str
    part: int | None = None  # combined instructions: which intent's TCP/CPA
    bracket: bool = False  # show the value without the control sentence in brackets


@dataclass
class Table:
    key: str
    title: str
    columns: list[Col]
    rows: list[tuple[str, list[str]]] = field(default_factory=list)
    reference: list[tuple[str, list[str]]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def headers(self) -> list[str]:
        return ["model", *[c.header for c in self.columns], "cases"]


@dataclass(frozen=True)
class Spec:
    key: str
    title: str
    columns: tuple[Col, ...]
    paper: dict
    paper_cols: tuple[int, ...]  # which columns the paper's tuple fills, in order
    notes: tuple[str, ...] = ()


def _acc(s: str, k: str = "10") -> tuple[Col, Col]:
    return Col(s, "HR", f"{s} HR@{k}"), Col(s, "NDCG", f"{s} NDCG@{k}")


SPECS = (
    Spec("aligned", "The aligned model at a glance: accuracy, control and legality on the same fixed sets",
         (*_acc("I0"), Col("I0", "teacher_overlap", "I0 overlap with teacher top-10 %"),
          Col("I1+", "TCP", "I1+ TCP@10 % ↑"), Col("I1-", "TCP", "I1- TCP@10 % ↓"),
          Col("I2<=20%", "CPA", "I2<=20% CPA % ↑"), Col("I2~30%", "CPA", "I2~30% CPA % ↑"),
          Col("I2>=30%", "CPA", "I2>=30% CPA % ↑"), Col("I1+", "HR", "I1+ HR@10"),
          Col("I1-", "HR", "I1- HR@10"), Col("I0", "NonExist", "NonExist %"),
          Col("I0", "RepeatItem", "Repeat %"), Col("I0", "InHistory", "InHistory %")),
         {}, (),
         ("Rows name the mode (paper: titles from the history alone; grounded: the teacher's candidate "
          "pool in the prompt) and the decoding (free, catalog, guaranteed; '+ teacher' adds the "
          "teacher's scores where a title is chosen). 'pool:' rows choose from the same pools without "
          "reading any text; overlap is the share of the list that is the teacher's own top 10.",)),
    Spec("I0", "Sequential recommendation, I0 (paper Table 2)",
         (*_acc("I0"), Col("I0@5", "HR", "HR@5"), Col("I0@5", "NDCG", "NDCG@5")),
         paper.TABLE2, (0, 1, 2, 3)),
    Spec("I1", "Category control, I1 (paper Table 3)",
         (*_acc("I1+"), Col("I1+", "TCP", "I1+ TCP@10 % ↑", bracket=True),
          *_acc("I1-"), Col("I1-", "TCP", "I1- TCP@10 % ↓", bracket=True)),
         paper.TABLE3, (0, 1, 2, 3, 4, 5)),
    Spec("I2", "Category proportion control, I2 (paper Table 4; I2~50% is ctrlrec's extra set)",
         tuple(c for s in ("I2<=20%", "I2~30%", "I2>=30%", "I2~50%")
               for c in (*_acc(s), Col(s, "CPA", f"{s} CPA % ↑", bracket=True))),
         paper.TABLE4, tuple(range(9))),
    Spec("format", "Formatting quality, k = 11..15 (paper Table 5; the `count` set)",
         (Col("count", "CorrectCount", "CorrectCount % ↑"), Col("count", "RepeatItem", "RepeatItem@K % ↓"),
          Col("count", "NonExist", "NonExist@K % ↓"), Col("count", "InHistory", "InHistory@K % ↓"),
          Col("count", "HR", "HR@K"), Col("count", "NDCG", "NDCG@K")),
         paper.TABLE5, (0, 1, 2, 3, 4, 5)),
    Spec("combined", "Combined instructions (paper Table 7)",
         (Col("I1+&I1-", "HR", "I1+&I1- HR@10"),
          Col("I1+&I1-", "TCP", "TCP@10 of C1 % ↑", part=0, bracket=True),
          Col("I1+&I1-", "TCP", "TCP@10 of C2 % ↓", part=1, bracket=True),
          Col("I2<=20%&I1-", "HR", "I2<=20%&I1- HR@10"),
          Col("I2<=20%&I1-", "CPA", "C1 PA % ↑", part=0, bracket=True),
          Col("I2<=20%&I1-", "TCP", "TC2P@10 % ↓", part=1, bracket=True)),
         paper.TABLE7, (0, 1, 3, 4, 5),
         ("The paper's first combined column is TC(1 not 2)P@10, the share of items in C1 and not in "
          "C2; ctrlrec reports each part's own TCP (spec §7), so that reference cell sits under "
          "'TCP@10 of C1' and is not the same quantity.",)),
    Spec("heldout", "Held-out phrasings (ctrlrec): the same intents in wordings never seen in training",
         (Col("I1+", "TCP", "I1+ TCP % ↑"), Col("hI1+", "TCP", "held-out I1+ TCP % ↑"),
          Col("I1-", "TCP", "I1- TCP % ↓"), Col("hI1-", "TCP", "held-out I1- TCP % ↓"),
          Col("I2<=20%", "CPA", "I2<=20% CPA % ↑"), Col("hI2<=20%", "CPA", "held-out I2<=20% CPA % ↑"),
          Col("I2~30%", "CPA", "I2~30% CPA % ↑"), Col("hI2~30%", "CPA", "held-out I2~30% CPA % ↑"),
          Col("I2>=30%", "CPA", "I2>=30% CPA % ↑"), Col("hI2>=30%", "CPA", "held-out I2>=30% CPA % ↑"),
          Col("hI1+", "HR", "held-out I1+ HR@10")),
         {}, (),
         ("Wordings from `ctrlrec.heldout` (natural frames, half with colloquial synonyms such as "
          "'scary' for Horror); the keyword-parser oracle reads the same text with literal category "
          "names only.",)),
)


def fmt(metric: str, v) -> str:
    if v is None:
        return "–"
    return f"{100 * v:.2f}" if metric in PCT else f"{v:.4f}"


def _paper_cell(v) -> str:
    if isinstance(v, tuple):
        return f"{v[0]:.2f} ({v[1]:.2f})"
    return f"{v:.2f}" if v > 1 else f"{v:.4f}"


def _value(variant: dict | None, col: Col):
    if not variant:
        return None
    if col.part is not None:
        parts = variant.get("parts") or []
        return parts[col.part].get(col.metric) if col.part < len(parts) else None
    if col.metric in GUARDS:
        return (variant.get("guards") or {}).get(col.metric)
    return variant["metrics"].get(col.metric)


def cell(summary: dict, col: Col) -> str:
    entry = summary.get("sets", {}).get(col.set)
    if not entry:
        return "–"
    control = entry.get("control")
    text = fmt(col.metric, _value(control, col))
    if control and not control.get("complete", True):
        text += "*"
    if col.bracket and entry.get("plain"):
        text += f" ({fmt(col.metric, _value(entry['plain'], col))})"
    return text


def _cases(summary: dict, spec: Spec) -> str:
    ns = sorted({(summary["sets"][c.set].get("control") or {}).get("n", 0)
                 for c in spec.columns if c.set in summary.get("sets", {})})
    return "/".join(str(n) for n in ns) if ns else "–"


def build(runs: list[tuple[str, dict]], reference: bool = True) -> list[Table]:
    """Tables for `runs` ((label, summary) pairs, in row order), with the paper's rows."""
    out = []
    for spec in SPECS:
        t = Table(spec.key, spec.title, list(spec.columns), notes=list(spec.notes))
        for label, summary in runs:
            t.rows.append((label, [cell(summary, c) for c in spec.columns] + [_cases(summary, spec)]))
        if reference:
            for dataset, rows in spec.paper.items():
                for model, values in rows.items():
                    cells = ["–"] * len(spec.columns)
                    for j, v in zip(spec.paper_cols, values, strict=True):
                        cells[j] = _paper_cell(v)
                    t.reference.append((f"paper {dataset}: {model}", cells + ["all"]))
        counts = {r[1][-1] for r in t.rows if r[1][-1] != "–"}
        if len(counts) > 1:
            t.notes.append("Rows were evaluated on different numbers of cases (column 'cases'); "
                           "compare rows with the same count (the first N cases of each fixed set).")
        if any("*" in c for _, cells in t.rows for c in cells):
            t.notes.append("* the run has not answered every case of this set yet.")
        out.append(t)
    return out


def markdown(t: Table) -> str:
    lines = [f"### {t.title}", "", "| " + " | ".join(t.headers) + " |",
             "|" + "|".join(["---"] + ["---:"] * (len(t.headers) - 1)) + "|"]
    lines += ["| " + " | ".join([label, *cells]) + " |" for label, cells in t.rows]
    if t.reference:
        lines.append("| *paper (Llama-2-7b; other datasets)* |" + " |" * (len(t.headers) - 1))
        lines += ["| " + " | ".join([f"*{label}*", *cells]) + " |" for label, cells in t.reference]
    lines.append("")
    lines += [f"> {n}" for n in t.notes]
    return "\n".join(lines) + "\n"
