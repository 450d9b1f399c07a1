"""`ctrlrec score`: the spec §6 example round-trips; bad lines are named with their line number."""

import json
import subprocess
import sys
from math import log2
from pathlib import Path

import pytest
from typer.testing import CliRunner

from ctrlrec.cli import app
from ctrlrec.errors import CtrlrecError
from ctrlrec.scoring import load_catalog_file

runner = CliRunner()
SPEC_CASE = {"id": "c1", "intent": {"kind": "I2<=", "category": "Horror", "proportion": 0.2}, "k": 5,
             "history": ["Scream (1996)", "Alien (1979)"], "target": "Heat (1995)",
             "teacher": ["Heat (1995)", "Fargo (1996)", "..."], "output": "1. Heat (1995)\n2. Fargo (1996)"}
CSV = ("item_id,title,categories\n0,Heat (1995),Action|Crime|Thriller\n1,Fargo (1996),Crime|Drama|Thriller\n"
       "2,Scream (1996),Horror|Thriller\n3,Alien (1979),\"[\"\"Horror\"\", \"\"Sci-Fi\"\"]\"\n")


@pytest.fixture
def files(tmp_path):
    cat = tmp_path / "catalog.csv"
    cat.write_text(CSV)
    cases = tmp_path / "cases.jsonl"
    combined = {**SPEC_CASE, "id": "c2", "intent": [{"kind": "I1+", "category": "Crime"},
                                                    {"kind": "I1-", "category": "Horror"}], "k": 2}
    cases.write_text(json.dumps(SPEC_CASE) + "\n\n" + json.dumps(combined) + "\n")
    return cat, cases


def test_spec_example_round_trips(files):
    cat, cases = files
    r = runner.invoke(app, ["score", "--catalog", str(cat), str(cases)])
    assert r.exit_code == 0, r.output
    out = [json.loads(line) for line in r.stdout.splitlines()]
    assert [o["id"] for o in out] == ["c1", "c2"]
    # Heat: target, S=1; I2<= (k*m = 1): out of C -> 1.0. Fargo: rank 1, S=1/log2(4)=0.5; 1.0.
    star = 1.0 + 0.5 / log2(3)
    assert out[0] == {"id": "c1", "items": ["Heat (1995)", "Fargo (1996)"], "item_ids": [0, 1],
                      "illegal": [False, False],
                      "metrics": {"HR": 1, "NDCG": 1.0, "TCP": 0.0, "CPA": 1, "CorrectCount": 0,
                                  "RepeatItem": 0.0, "NonExist": 0.0, "InHistory": 0.0},
                      "item_rewards": [1.0, 0.75], "list_reward": pytest.approx(0.5 * star + 0.5)}
    assert out[1]["metrics"]["parts"] == [{"TCP": 1.0, "CPA": None}, {"TCP": 0.0, "CPA": None}]
    assert out[1]["metrics"]["TCP"] is None and out[1]["metrics"]["CorrectCount"] == 1


def test_stdin_output_file_and_summary(files, tmp_path):
    cat, cases = files
    target = tmp_path / "scored.jsonl"
    r = runner.invoke(app, ["score", "--catalog", str(cat), "-", "-o", str(target), "--summary"],
                      input=cases.read_text())
    assert r.exit_code == 0, r.output
    assert len(target.read_text().splitlines()) == 2
    assert "I2<=" in r.stdout and "I1+&I1-" in r.stdout and "100.00 / 0.00" in r.stdout


def test_catalog_files(tmp_path):
    j = tmp_path / "c.jsonl"
    j.write_text('{"item_id": 3, "title": "A", "categories": ["X", "Y"]}\n'
                 '{"item_id": 1, "title": "B", "categories": "Y|Z"}\n')
    c = load_catalog_file(j)
    assert c.ids.tolist() == [3, 1] and c.category_names == ["X", "Y", "Z"]  # row order kept
    assert c.titles == ["A", "B"] and not c.dense and c.labels is None
    with pytest.raises(CtrlrecError, match="is not prepared"):
        load_catalog_file("no-such-dataset")


BAD = [
    ("{not json", "malformed JSON"),
    (json.dumps({k: v for k, v in SPEC_CASE.items() if k != "k"}), "missing the field 'k'"),
    (json.dumps({**SPEC_CASE, "intent": {"kind": "I9"}}), "intent kind 'I9' is unknown"),
    (json.dumps({**SPEC_CASE, "k": 0}), "k must be an integer in 1..100"),
    (json.dumps({**SPEC_CASE, "k": 101}), "k must be an integer in 1..100"),
    (json.dumps({**SPEC_CASE, "intent": {"kind": "I2~", "category": "Horror", "proportion": 1.5}}),
     "proportion must be in [0, 1]"),
    (json.dumps({**SPEC_CASE, "intent": {"kind": "I1+", "category": "Noir"}}),
     "category 'Noir' is unknown to the catalog"),
    (json.dumps({**SPEC_CASE, "history": ["Nope (2000)"]}), "history item 'Nope (2000)' is not a title"),
]


@pytest.mark.parametrize("line, message", BAD)
def test_bad_line_stops_with_its_number_and_writes_nothing(files, tmp_path, line, message):
    cat, _ = files
    cases = tmp_path / "bad.jsonl"
    cases.write_text(json.dumps(SPEC_CASE) + "\n" + line + "\n" + json.dumps(SPEC_CASE) + "\n")
    target = tmp_path / "out.jsonl"
    target.write_text("old\n")
    r = runner.invoke(app, ["score", "--catalog", str(cat), str(cases), "-o", str(target)])
    assert isinstance(r.exception, CtrlrecError)
    assert "bad.jsonl:2: " in str(r.exception) and message in str(r.exception)
    assert target.read_text() == "old\n"  # nothing written half
    r = runner.invoke(app, ["score", "--catalog", str(cat), str(cases)])
    assert isinstance(r.exception, CtrlrecError) and r.stdout == ""


def test_skip_bad_reports_and_goes_on(files, tmp_path):
    cat, _ = files
    cases = tmp_path / "bad.jsonl"
    cases.write_text("\n".join([json.dumps(SPEC_CASE), BAD[0][0], json.dumps({**SPEC_CASE, "id": "z"}),
                                BAD[3][0]]) + "\n")
    r = runner.invoke(app, ["score", "--catalog", str(cat), str(cases), "--skip-bad"])
    assert r.exit_code == 0
    assert [json.loads(x)["id"] for x in r.stdout.splitlines()] == ["c1", "z"]
    assert "bad.jsonl:2: malformed JSON" in r.stderr and "bad.jsonl:4: k must be" in r.stderr
    assert "2 bad line(s) skipped" in r.stderr


def test_user_error_is_one_line_at_the_command_line(files, tmp_path):
    cat, _ = files
    cases = tmp_path / "bad.jsonl"
    cases.write_text('{"id": 1}\n')
    src = str(Path(__file__).resolve().parents[2] / "src")
    cmd = [sys.executable, "-m", "ctrlrec.cli", "score", "--catalog", str(cat), str(cases)]
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True,
                          env={"PYTHONPATH": src, "PATH": "/usr/bin:/bin"})
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.startswith("error: ") and "bad.jsonl:1: missing the field 'intent'" in proc.stderr
    assert "Traceback" not in proc.stderr


STRING_CSV = ("item_id,title,categories\nm0003,Heat (1995),Action|Crime\ntt1,Fargo (1996),Crime\n"
              "B00ASIN,Scream (1996),Horror\nHalf-Life 2,Alien (1979),Horror|Sci-Fi\n")


def test_score_with_string_catalog_ids(tmp_path):
    cat = tmp_path / "strings.csv"
    cat.write_text(STRING_CSV)
    cases = tmp_path / "cases.jsonl"
    rows = [  # history / target / teacher by the user's own ids, or by title
        {"id": "s1", "intent": {"kind": "I0"}, "k": 3, "history": ["B00ASIN"], "target": "tt1",
         "teacher": ["tt1", "m0003"], "output": "1. heat (1995)\n2. Fargo (1996)\n3. Scream (1996)"},
        {"id": "s2", "intent": {"kind": "I1+", "category": "Horror"}, "k": 2,
         "history": ["Heat (1995)"], "target": "Half-Life 2", "output": "1. Alien (1979)\n2. Nope"},
    ]
    cases.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "scored.jsonl"
    res = runner.invoke(app, ["score", "--catalog", str(cat), str(cases), "-o", str(out)])
    assert res.exit_code == 0, res.output
    s1, s2 = (json.loads(x) for x in out.read_text().splitlines())
    assert s1["item_ids"] == ["m0003", "tt1", "B00ASIN"]
    assert s1["illegal"] == [False, False, True]          # B00ASIN is in the history
    assert s1["metrics"]["HR"] == 1 and s1["metrics"]["InHistory"] == pytest.approx(1 / 3)
    assert s2["item_ids"] == ["Half-Life 2", None] and s2["metrics"]["HR"] == 1
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({**rows[0], "target": "tt9"}) + "\n")
    res = runner.invoke(app, ["score", "--catalog", str(cat), str(bad)])
    assert res.exit_code != 0
    assert "bad.jsonl:1: target 'tt9' is not a title or an item id of the catalog" in str(res.exception)


def test_integer_catalog_ids_stay_integers(files):
    cat, _ = files
    c = load_catalog_file(cat)
    assert c.labels is None and c.dense and c.ids.tolist() == [0, 1, 2, 3]


@pytest.mark.parametrize("body, message", [
    ("m1,A,X\n,B,X\n", "row 2: item_id '': expected a non-empty string"),
    ("m1,A,X\n  ,B,X\n", "row 2: item_id '  ': expected a non-empty string"),
    ("m1,A,X\nm1,B,X\n", "row 2: item_id 'm1' appears twice"),
    ("1,A,X\n01,B,X\n", "row 2: item_id '01' appears twice"),
])
def test_blank_and_duplicate_ids_name_file_row_and_value(tmp_path, body, message):
    cat = tmp_path / "ids.csv"
    cat.write_text("item_id,title,categories\n" + body)
    with pytest.raises(CtrlrecError, match=str(cat).replace(".", r"\.") + ": ") as exc:
        load_catalog_file(cat)
    assert message in str(exc.value)
    j = tmp_path / "ids.jsonl"
    j.write_text('{"item_id": "m1", "title": "A", "categories": []}\n'
                 '{"item_id": null, "title": "B", "categories": []}\n')
    with pytest.raises(CtrlrecError, match=r"ids\.jsonl: row 2: item_id .*expected a non-empty string"):
        load_catalog_file(j)
