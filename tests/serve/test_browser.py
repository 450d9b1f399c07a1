"""The web page in a real headless Chromium (Debian's, driven by Playwright): one recommendation."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.serve.live import CHROMIUM, CHROMIUM_ARGS, running

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="needs /usr/bin/chromium (Debian chromium)"),
]


def test_page_recommends_for_a_user_with_a_control(rec, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    from ctrlrec.serve.app import create_app

    user = 3
    seen = set(rec.ds.sequences[user].tolist())
    with running(create_app(rec)) as url, sync_api.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            errors = []
            page.on("pageerror", lambda e: errors.append(str(e)))
            page.goto(url + "/", timeout=30_000)
            page.wait_for_selector("body[data-ready='1']", timeout=30_000)
            assert page.locator("#exclude option").count() == len(rec.categories) + 1

            page.fill("#user", str(user))
            page.dispatch_event("#user", "change")
            page.wait_for_selector("#history li", timeout=30_000)
            assert page.locator("#history li").count() == min(10, len(seen))

            page.select_option("#exclude", "Comedy")
            page.fill("#k", "4")
            page.select_option("#mode", "guaranteed")
            page.click("#go")
            page.wait_for_selector("#results li:nth-child(4)", timeout=60_000)  # (CSP forbids eval'd waits)
            assert page.locator("#results li").count() == 4

            titles = page.locator("#results li .title").all_inner_texts()
            ids = [rec.catalog.exact[t] for t in titles]  # every line is an exact catalog title
            assert len(set(ids)) == 4 and not seen & set(ids)
            assert all("Comedy" not in rec.item_categories[i] for i in ids)
            assert page.locator("#results .chip").count() >= 4  # category chips
            assert "met" in page.locator("#parts").inner_text()
            assert "items in" in page.locator("#status").inner_text()
            assert page.locator("#user").bounding_box()["width"] >= 100  # its placeholder is not cut
            shot = os.environ.get("CTRLREC_SCREENSHOT")
            page.screenshot(path=shot or str(tmp_path / "web.png"), full_page=True)

            # an error after a success: the message shows, the previous answer does not stay under it
            page.fill("#k", "99")
            page.click("#go")
            page.wait_for_selector("#status.error", timeout=30_000)
            assert "k must be" in page.locator("#status").inner_text()
            assert page.locator("#results li").count() == 0 and page.locator("#parts li").count() == 0
            assert not errors, errors
        finally:
            browser.close()
