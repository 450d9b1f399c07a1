"""The dialogue format's JSONL and ReDial's published format, on fixture files written here."""

from __future__ import annotations

import json

import pytest

from ctrlrec.crs import dialogue, redial
from ctrlrec.crs.dialogue import Dialogue, Feedback, Turn
from ctrlrec.errors import InputFileError

SEEKER, RECOMMENDER = 956, 957


def _redial_rows():
    msg = lambda i, who, t, text: {"messageId": i, "senderWorkerId": who, "timeOffset": t, "text": text}  # noqa: E731
    return [
        {"conversationId": "391", "initiatorWorkerId": SEEKER, "respondentWorkerId": RECOMMENDER,
         "movieMentions": {"111776": "Super Troopers (2001)", "203371": "Zoolander (2001)",
                           "84779": "Tommy Boy (1995)"},
         "respondentQuestions": {"111776": {"suggested": 0, "seen": 1, "liked": 1},
                                 "203371": {"suggested": 1, "seen": 0, "liked": 1},
                                 "84779": {"suggested": 1, "seen": 1, "liked": 0}},
         "initiatorQuestions": {},
         "messages": [msg(1, SEEKER, 0, "Hi, I liked @111776"), msg(2, SEEKER, 4, "something funny?"),
                      msg(3, RECOMMENDER, 20, "Have you seen @203371 or @84779 ?"),
                      msg(4, SEEKER, 65, "@203371 sounds great, @84779 not for me"),
                      msg(5, RECOMMENDER, 80, "Enjoy!")]},
        {"conversationId": "392", "initiatorWorkerId": 1, "respondentWorkerId": 2, "movieMentions": [],
         "respondentQuestions": {}, "initiatorQuestions": {},
         "messages": [msg(1, 1, 0, "hello"), msg(2, 2, 3, "hi")]},
    ]


def test_redial_fixture_parsing(tmp_path):
    path = tmp_path / "redial.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in _redial_rows()))
    first, second = redial.load(path)
    assert first.id == "redial-391" and [t.role for t in first.turns] == ["user", "recommender", "user",
                                                                         "recommender"]
    assert first.turns[0].text == \
        "Hi, I liked Super Troopers (2001)\nsomething funny?"  # merged; @id -> title
    assert first.turns[0].items == [111776] and first.turns[0].feedback is None
    rec = first.turns[1]
    assert rec.text == "Have you seen Zoolander (2001) or Tommy Boy (1995) ?"
    assert rec.items == [203371, 84779]
    fb = rec.feedback
    assert fb.accepted and fb.accepted_items == [203371] and fb.rejected_items == [84779]
    assert fb.sentiment == 0.0  # (+1 liked, -1 not liked) / 2
    assert fb.dwell == 45.0 and fb.went_on  # the seeker answered 45 s later
    assert first.turns[3].feedback is None  # mentions no movie
    assert second.turns[1].feedback is None and second.meta["titles"] == {}


def test_redial_bad_line_names_its_number(tmp_path):
    path = tmp_path / "bad.jsonl"
    rows = _redial_rows()
    del rows[1]["initiatorWorkerId"]
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(InputFileError, match=r"bad.jsonl: line 2: missing key 'initiatorWorkerId'"):
        redial.load(path)


def test_dialogue_jsonl_round_trip_and_errors(tmp_path):
    d = Dialogue("x", [Turn("user", "hi", [3]),
                       Turn("recommender", "1. A", [4], Feedback(True, 0.5, 12.0, False, [4], []),
                            [Turn("recommender", "1. B", [5], Feedback())])], 7, {"k": 1})
    path = tmp_path / "d.jsonl"
    dialogue.write(path, [d, d])
    back = dialogue.read(path)
    assert [b.to_json() for b in back] == [d.to_json(), d.to_json()]
    assert back[0].turns[1].alternatives[0].items == [5]
    path.write_text(json.dumps(d.to_json()) + "\n" + json.dumps({"turns": [{"role": "bot", "text": ""}]}))
    with pytest.raises(InputFileError, match="line 2: turn role 'bot'"):
        dialogue.read(path)
    bad = d.to_json()
    bad["turns"][1]["feedback"]["sentiment"] = 3
    path.write_text(json.dumps(bad) + "\n")
    with pytest.raises(InputFileError, match=r"line 1: feedback.sentiment 3.0 is outside \[-1, 1\]"):
        dialogue.read(path)


def test_redial_quirks_are_counted_not_hidden(tmp_path):
    from typer.testing import CliRunner

    from ctrlrec.crs.cli import app

    rows = _redial_rows()
    rows[0]["movieMentions"]["203371"] = None  # a null title
    rows[0]["messages"][2]["text"] = "Have you seen @203371 or @84779 or @999999 ?"  # 999999: no entry
    rows[0]["respondentQuestions"]["555"] = {"suggested": 1, "seen": 0, "liked": 1}  # never mentioned
    path = tmp_path / "redial.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    first, second = redial.load(path)
    rec = first.turns[1]
    assert rec.items == [203371, 84779] and "@999999" in rec.text  # dangling: not an item
    assert "movie 203371" in rec.text
    assert first.meta["quirks"] == {"null_titles": 1, "dangling_mentions": 1, "unlisted_questions": 1}
    assert redial.quirks([first, second]) == first.meta["quirks"]
    out = tmp_path / "d.jsonl"
    r = CliRunner().invoke(app, ["redial", str(path), "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert "null titles 1, dangling mentions 1, unlisted questions 1" in r.output
    meta = json.loads((tmp_path / "d.jsonl.meta.json").read_text())
    assert meta["quirks"]["dangling_mentions"] == 1 and meta["dialogues"] == 2
    assert dialogue.read(out)[0].meta["quirks"]["null_titles"] == 1
