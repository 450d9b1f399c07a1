"""The chat page in a real headless Chromium (Debian's, driven by Playwright): two turns, accept and
reject clicks, leave; the feedback log checked line by line."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.serve.live import CHROMIUM, CHROMIUM_ARGS, running

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium (Debian chromium)"),
]


def test_chat_page_logs_feedback(tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from ctrlrec.crs import dialogue
    from ctrlrec.serve.app import create_app
    from tests.serve.conftest import make_rec

    rec = make_rec(feedback_dir=str(tmp_path), chat_k=3)
    log = tmp_path / "crs_feedback.jsonl"
    with running(create_app(rec)) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 800})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url + "/crs", timeout=30_000)
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)

            page.fill("#crs-text", "Hi! Something <b>funny</b>, please")
            page.click("#crs-send")
            page.wait_for_selector("ol.rec li:nth-child(3)", timeout=60_000)
            first = page.locator("ol.rec").nth(0).locator("li")
            ids1 = [int(x) for x in first.evaluate_all("els => els.map(e => e.dataset.itemId)")]
            assert len(ids1) == 3
            assert page.locator(".msg.user .text").first.inner_text() == "Hi! Something <b>funny</b>, please"
            first.nth(0).locator("button.accept").click()
            first.nth(1).locator("button.reject").click()
            assert "accepted" in first.nth(0).get_attribute("class")

            page.fill("#crs-text", "More like that")
            page.press("#crs-text", "Enter")
            page.wait_for_selector("body[data-turns='2']", timeout=60_000)
            page.wait_for_selector("ol.rec >> nth=1 >> li:nth-child(3)", timeout=60_000)
            second = page.locator("ol.rec").nth(1).locator("li")
            ids2 = [int(x) for x in second.evaluate_all("els => els.map(e => e.dataset.itemId)")]
            assert not set(ids1) & set(ids2)
            second.nth(2).locator("button.reject").click()
            page.click("#crs-leave")
            page.wait_for_selector("body[data-left='1']", timeout=30_000)
            assert page.locator("#crs-status").inner_text() == "2 feedback logged"
            # after leaving, the disabled controls look disabled; the items showed their categories
            for sel in ("#crs-send", "#crs-text", "#crs-leave"):
                assert float(page.locator(sel).evaluate("e => getComputedStyle(e).opacity")) < 1, sel
            assert page.locator("ol.rec .chip").count() >= 3
            assert not errors, errors
        finally:
            browser.close()
    a, b = dialogue.read(log)
    fa, fb = a.turns[-1].feedback, b.turns[-1].feedback
    assert fa.accepted_items == [ids1[0]] and fa.rejected_items == [ids1[1]] and fa.went_on
    assert fa.dwell >= 0 and fa.sentiment == 0.0
    assert not fb.accepted and fb.rejected_items == [ids2[2]] and not fb.went_on and fb.sentiment == -1.0
    assert a.turns[0].text == "Hi! Something <b>funny</b>, please" and len(b.turns) == 4
