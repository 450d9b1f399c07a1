"""`ctrlrec eval` on a tiny chat model and the baselines, then `ctrlrec report`, from the CLI."""

from __future__ import annotations

import base64
import json
from html.parser import HTMLParser

from typer.testing import CliRunner

from ctrlrec.cli import app
from ctrlrec.eval.tables import SPECS

runner = CliRunner()
SETS = "I0,I0@5,I1+,I1-,I2<=20%,I2~30%,I2>=30%,I2~50%,I1+&I1-,I2<=20%&I1-,count"


class _Page(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.tables, self.images, self.h2 = set(), [], [], []
        self._in_h2 = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        if tag == "table":
            self.tables.append(a.get("class"))
        if tag == "img":
            self.images.append(a["src"])
        self._in_h2 = tag == "h2"

    def handle_data(self, data):
        if self._in_h2:
            self.h2.append(data)
            self._in_h2 = False


def _eval(model, tasks, out, *extra):
    r = runner.invoke(app, ["eval", model, "--dataset", "tiny", "--testsets", str(tasks), "--out",
                            str(out), "--tasks", SETS, *extra])
    assert r.exit_code == 0, r.output
    return json.loads((out / "summary.json").read_text())


def test_tiny_model_end_to_end_and_report(saved, tiny_llm, tmp_path):
    _, tasks = saved
    llm = _eval(str(tiny_llm), tasks, tmp_path / "llm", "--limit", "2", "--max-new-tokens", "6",
                "--batch-size", "4", "--backend", "hf", "--label", "tiny")
    assert llm["recommender"]["backend"] == "hf" and llm["label"] == "tiny"
    assert all(e["control"]["n"] == 2 for e in llm["sets"].values())
    assert llm["sets"]["I1+"]["plain"]["n"] == 2
    lines = (tmp_path / "llm" / "I1pos.jsonl").read_text().splitlines()
    assert len(lines) == 4 and all("output" in json.loads(x) for x in lines)
    pop = _eval("popularity", tasks, tmp_path / "pop", "--limit", "2")
    ora = _eval("oracle:popularity", tasks, tmp_path / "ora", "--limit", "2")
    assert ora["sets"]["I1+"]["plain"]["metrics"] == pop["sets"]["I1+"]["control"]["metrics"]

    out = tmp_path / "report"
    r = runner.invoke(app, ["report", str(tmp_path / "pop"), str(tmp_path / "ora"),
                            str(tmp_path / "llm"), "--out", str(out)])
    assert r.exit_code == 0, r.output
    page = _Page()
    page.feed((out / "report.html").read_text())
    assert {"models", "tables", "figures"} <= page.ids
    assert page.h2 == ["Models", "Tables", "Figures"]
    assert [t for t in page.tables if t != "models"] == [f"table-{s.key}" for s in SPECS]
    assert len(page.images) == 4
    for src in page.images:
        head, data = src.split(",", 1)
        assert head == "data:image/png;base64"
        assert base64.b64decode(data)[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "report.md").read_text()
    assert all(s.title in md for s in SPECS) and "| tiny |" in md
    assert "paper Movie: Ours full" in md and "93.52 (7.81)" in md
    assert {p.name for p in out.glob("*.png")} == {"compliance.png", "control_effect.png",
                                                  "formatting.png", "count_vs_k.png"}


def test_cli_errors_are_one_line(saved, tmp_path):
    _, tasks = saved
    from ctrlrec.cli import main  # noqa: F401  (main wraps CtrlrecError; the runner sees the raise)

    r = runner.invoke(app, ["eval", "popularity", "--dataset", "tiny", "--testsets", str(tasks),
                            "--tasks", "I7", "--out", str(tmp_path / "x")])
    assert r.exit_code != 0 and "I7" in str(r.exception)
    r = runner.invoke(app, ["eval", "popularity", "--dataset", "tiny", "--decoding", "beam",
                            "--testsets", str(tasks)])
    assert "--decoding beam" in str(r.exception)
    r = runner.invoke(app, ["report", str(tmp_path / "missing"), "--out", str(tmp_path / "r")])
    assert "summary.json" in str(r.exception)


def test_report_refuses_runs_on_different_test_sets(saved, tmp_path):
    _, tasks = saved
    a = _eval("popularity", tasks, tmp_path / "a", "--limit", "2")
    b = _eval("oracle:popularity", tasks, tmp_path / "b", "--limit", "2")
    assert a["testsets_sha256"]["test/I1+"] == b["testsets_sha256"]["test/I1+"]
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    summary["testsets_sha256"]["test/I1+"] = "0" * 64  # as if b had read another I1+ file
    (tmp_path / "b" / "summary.json").write_text(json.dumps(summary))
    out = tmp_path / "r"
    r = runner.invoke(app, ["report", str(tmp_path / "a"), str(tmp_path / "b"), "--out", str(out)])
    assert r.exit_code != 0
    msg = str(r.exception)
    assert "test set I1+" in msg and str(tmp_path / "b") in msg and "same test sets" in msg
    assert not (out / "report.md").exists()
