"""The chat mode's API: turns in a session, feedback logged as dialogue lines the RM reads."""

from __future__ import annotations

import pytest


@pytest.fixture
def chat(tmp_path):
    from fastapi.testclient import TestClient

    from ctrlrec.serve.app import create_app
    from tests.serve.conftest import make_rec

    rec = make_rec(feedback_dir=str(tmp_path), chat_k=4)
    with TestClient(create_app(rec)) as c:
        yield c, rec, tmp_path / "crs_feedback.jsonl"


def test_chat_turns_and_feedback_log(chat):
    from ctrlrec.crs import dialogue
    from ctrlrec.crs.labels import LabelWeights
    from ctrlrec.crs.rm_data import examples

    c, rec, log = chat
    r1 = c.post("/crs/turn", json={"session": None, "text": "Something funny please"}).json()
    assert r1["turn"] == 1 and len(r1["items"]) == 4
    ids1 = [it["item_id"] for it in r1["items"]]
    assert [rec.catalog.titles[i] for i in ids1] == [it["title"] for it in r1["items"]]
    fb = {"session": r1["session"], "turn": 1, "accepted": [ids1[0]], "rejected": ids1[1:3], "dwell": 12.5,
          "went_on": True}
    assert c.post("/crs/feedback", json=fb).json()["logged"] == 1
    r2 = c.post("/crs/turn", json={"session": r1["session"], "text": "More like the first"}).json()
    assert r2["turn"] == 3 and not set(ids1) & {it["item_id"] for it in r2["items"]}  # nothing shown twice
    assert c.post("/crs/feedback", json={**fb, "turn": 3, "accepted": [], "rejected": [],
                                         "went_on": False}).json()["logged"] == 2
    first, second = dialogue.read(log)
    assert first.id == second.id == r1["session"] and first.meta["source"] == "chat"
    f = first.turns[-1].feedback
    assert f.accepted and f.accepted_items == [ids1[0]] and f.rejected_items == ids1[1:3]
    assert f.sentiment == pytest.approx(-1 / 3) and f.dwell == 12.5 and f.went_on
    assert [t.role for t in second.turns] == ["user", "recommender", "user", "recommender"]
    assert second.turns[1].feedback is None and not second.turns[-1].feedback.went_on
    exs = examples([first, second], LabelWeights(), k=4)
    assert len(exs) == 2 and exs[0].label > exs[1].label


def test_chat_rejects_bad_feedback(chat):
    c, rec, log = chat
    r = c.post("/crs/turn", json={"text": "hi"}).json()
    base = {"session": r["session"], "turn": r["turn"], "dwell": 1.0, "went_on": True}
    assert c.post("/crs/feedback", json={**base, "accepted": [10**6]}).status_code == 422
    assert c.post("/crs/feedback", json={**base, "turn": 0}).status_code == 422  # a user turn
    assert c.post("/crs/feedback", json={**base, "session": "nope"}).status_code == 404
    assert c.post("/crs/feedback", json={**base, "dwell": -1}).status_code == 422
    assert c.post("/crs/turn", json={"session": "nope", "text": "hi"}).status_code == 404
    assert c.post("/crs/turn", json={"text": ""}).status_code == 422
    assert not log.exists()
    assert "crs.js" in c.get("/crs").text


def test_a_burst_of_turns_gets_answers_and_fast_503s_and_health_answers(tmp_path):
    """/crs/turn waits in the service's bounded line: past capacity it answers 503 + Retry-After at once,
    never 504, and /healthz answers while turns decode."""
    import time

    from ctrlrec.serve.app import create_app
    from tests.serve.conftest import make_rec

    rec = make_rec(feedback_dir=str(tmp_path), chat_k=2, timeout_s=1.0, queue_max=64)
    from ctrlrec.crs.chat import ChatSessions

    real = ChatSessions._generate

    def slow(self, turns):
        time.sleep(0.15)
        return real(self, turns)

    ChatSessions._generate = slow
    try:
        app = create_app(rec)
        first, turns, health = _burst_turns(app)
    finally:
        ChatSessions._generate = real
    assert first.status_code == 200, first.text
    codes = [r.status_code for r in turns]
    assert set(codes) <= {200, 503} and codes.count(503) >= 8 and codes.count(200) >= 1, codes
    assert all(int(r.headers["Retry-After"]) >= 1 for r in turns if r.status_code == 503)
    assert [h.status_code for h in health] == [200] * 4


def _burst_turns(app):
    import asyncio

    import httpx

    async def go():
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t", timeout=30) as c:
            first = await c.post("/crs/turn", json={"text": "something funny"})  # measures a turn
            burst = [c.post("/crs/turn", json={"text": f"film {j}"}) for j in range(16)]
            health = [c.get("/healthz") for _ in range(4)]
            rs = await asyncio.gather(*burst, *health)
            await app.state.crs_batcher.stop()
            await app.state.batcher.stop()
            return first, rs[:16], rs[16:]

    return asyncio.run(go())


def test_chat_excludes_what_the_person_names_and_what_they_rule_out(chat):
    c, rec, _ = chat
    titles = list(rec.catalog.titles)
    named = [i for i, t in enumerate(titles) if "Comedy" not in rec.item_categories[i]][:2]
    text = f"I loved {titles[named[0]]} and {titles[named[1]].split(' (')[0]}; no comedy please"
    r = c.post("/crs/turn", json={"text": text})
    assert r.status_code == 200, r.text
    got = [it["item_id"] for it in r.json()["items"]]
    assert got and not set(got) & set(named)
    assert all("Comedy" not in it["categories"] for it in r.json()["items"])


def test_mentions_ground_titles_and_exclusions():
    from ctrlrec.crs.mentions import Mentions

    m = Mentions(["Toy Story (1995)", "Toy Story 2 (1999)", "Heat (1995)", "HEAT (1995)", "Fargo (1996)"],
                 ["Horror", "Comedy"])
    assert m.items("I loved toy story 2 and FARGO!") == [1, 4]  # not also Toy Story
    assert m.items("the heat was awful") == []  # one short word: only with its year
    assert m.items("Heat (1995) was great") == [2]  # shared normal form: the earlier row
    assert [p.category for p in m.exclusions("no horror please")] == ["Horror"]
    assert m.exclusions("something funny") == ()
