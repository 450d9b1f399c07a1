"""The README's picture of the web page: a real user's answer from a served model, in a real browser
(docs/img/web.png). Also prints the answer's wall time as the page saw it: docs/results.md, 'Decoding
and service', 'Serving' table, row 'guaranteed, k = 10, one page request'.

    python bench/web_page.py --model runs/pipeline-ml-100k/sft --dataset ml-100k --user 3 \
        --exclude Comedy --k 10 --mode guaranteed --out docs/img/web.png

Starts the real CLI (`python -m ctrlrec.cli serve`, grounded mode when the model's pipeline run says
so) on a free loopback port and drives Debian's Chromium with Playwright.
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", required=True)
    ap.add_argument("--dataset", default="ml-100k")
    ap.add_argument("--user", type=int, default=3)
    ap.add_argument("--exclude", default="Comedy")
    ap.add_argument("--k", type=int, default=10)
    ap.add_argument("--mode", default="guaranteed")
    ap.add_argument("--out", default="docs/img/web.png")
    args = ap.parse_args()
    from playwright.sync_api import sync_playwright

    port = free_port()
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    server = subprocess.Popen([sys.executable, "-m", "ctrlrec.cli", "serve", args.model, "--dataset",
                               args.dataset, "--port", str(port)], cwd=ROOT, env=env)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(url + "/healthz", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.goto(url + "/", timeout=60_000)
            page.wait_for_selector("body[data-ready='1']", timeout=60_000)
            page.fill("#user", str(args.user))
            page.dispatch_event("#user", "change")
            page.wait_for_selector("#history li", timeout=60_000)
            page.select_option("#exclude", args.exclude)
            page.fill("#k", str(args.k))
            page.select_option("#mode", args.mode)
            t0 = time.perf_counter()
            page.click("#go")
            page.wait_for_selector(f"#results li:nth-child({args.k})", timeout=300_000)
            print(f"answer of {args.k} items in {time.perf_counter() - t0:.1f} s (as the page saw it)")
            print("\n".join(page.locator("#results li .title").all_inner_texts()))
            page.screenshot(path=args.out, full_page=True)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
