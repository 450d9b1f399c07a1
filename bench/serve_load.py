"""Load test of `ctrlrec serve` on loopback: throughput and latency per concurrency, then overload.

Produces docs/results.md, 'Decoding and service', the 'Serving' table's burst and throughput rows.

    python bench/serve_load.py [--model smollm2-135m] [--dataset ml-1m] [--k 3] [--mode catalog]
                               [--levels 1,4,8,16] [--rounds 2] [--burst 64]
                               [--max-batch 8] [--queue-max 16] [--time-limit 1200]

Starts the real CLI (`python -m ctrlrec.cli serve`) as a child process on 127.0.0.1 and a free
port, waits for /healthz, then for each concurrency c runs c closed-loop clients that together send
`rounds * c` requests (random users, a random I1/I2 intent, k items). Below capacity (c <= max_batch
+ queue_max) every answer must be 200. The overload step sends `burst` requests at once: the
service must answer each with 200 or 503 + Retry-After, none may fail or go unanswered. Everything
is bounded: request counts are fixed and the whole run stops at --time-limit seconds.
During each burst /healthz is probed every 0.5 s (it must answer throughout), and with --crs-burst N
the same is done for N chat turns sent to POST /crs/turn at once. Figures: docs/results.md, "Bad
inputs and overload" (the burst rows).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shlex
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
CATS = ["Drama", "Comedy", "Action", "Thriller", "Romance", "Horror", "Sci-Fi", "Adventure"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def body(rng: random.Random, users: int, k: int, mode: str) -> dict:
    kind = rng.choice(["I1+", "I1-", "I2<=", "I2>="])
    intent = {"kind": kind, "category": rng.choice(CATS)}
    if kind.startswith("I2"):
        intent["proportion"] = rng.choice([0.3, 0.5])
    return {"user_id": rng.randrange(users), "k": k, "mode": mode, "intent": intent}


async def one(client, payload, path: str = "/v1/recommend") -> tuple[int, float, str]:
    t0 = time.perf_counter()
    try:
        r = await client.post(path, json=payload)
        extra = r.headers.get("Retry-After", "") if r.status_code == 503 else ""
        return r.status_code, time.perf_counter() - t0, extra
    except Exception as exc:  # a lost request: counted as an error
        return -1, time.perf_counter() - t0, type(exc).__name__


async def closed_loop(client, c: int, n: int, make) -> tuple[list, float]:
    todo = list(range(n))
    out = []

    async def worker():
        while todo:
            todo.pop()
            out.append(await one(client, make()))

    t0 = time.perf_counter()
    await asyncio.gather(*[worker() for _ in range(c)])
    return out, time.perf_counter() - t0


def summary(label: str, res: list, took: float) -> str:
    codes = [r[0] for r in res]
    ok = [r[1] for r in res if r[0] == 200]
    p50, p99 = (np.percentile(ok, 50), np.percentile(ok, 99)) if ok else (float("nan"),) * 2
    errors = sum(1 for x in codes if x not in (200, 503))
    return (f"| {label} | {len(res)} | {len(ok) / took:.2f} | {p50:.2f} | {p99:.2f} | "
            f"{codes.count(503)} | {errors} |")


async def drive(a, url: str) -> None:
    import httpx

    rng = random.Random(a.seed)
    limits = httpx.Limits(max_connections=a.burst + 8, max_keepalive_connections=a.burst + 8)
    async with httpx.AsyncClient(base_url=url, timeout=a.client_timeout, limits=limits) as client:
        health = (await client.get("/healthz")).json()
        users = health["users"]

        def make():
            return body(rng, users, a.k, a.mode)

        await one(client, make())  # warm-up (first batch pays one-off costs)
        print("| concurrency | requests | answers/s | p50 s | p99 s | 503 | errors |")
        print("|---:|---:|---:|---:|---:|---:|---:|")
        for c in a.levels:
            res, took = await closed_loop(client, c, a.rounds * c, make)
            print(summary(str(c), res, took), flush=True)
        if a.burst:
            await burst(client, "/v1/recommend", [make() for _ in range(a.burst)])
        if a.crs_burst:
            await one(client, {"text": "something funny"}, "/crs/turn")  # a measured turn
            turns = [{"text": f"a film like number {j}"} for j in range(a.crs_burst)]
            await burst(client, "/crs/turn", turns)


async def burst(client, path: str, payloads: list[dict]) -> None:
    """All payloads at once, with /healthz probed every 0.5 s until they are answered."""
    probes: list[float] = []
    done = asyncio.Event()

    async def probe():
        while not done.is_set():
            t = time.perf_counter()
            try:
                ok = (await client.get("/healthz", timeout=5)).status_code == 200
            except Exception:  # a probe that timed out or failed
                ok = False
            probes.append(time.perf_counter() - t if ok else float("inf"))
            await asyncio.sleep(0.5)

    prober = asyncio.create_task(probe())
    t0 = time.perf_counter()
    res = await asyncio.gather(*[one(client, p, path) for p in payloads])
    done.set()
    await prober
    codes = [r[0] for r in res]
    print(summary(f"burst {len(payloads)} at once, {path}", res, time.perf_counter() - t0))
    retry = sorted({int(r[2]) for r in res if r[0] == 503 and r[2]})
    fast = [r[1] for r in res if r[0] == 503]
    failed = sum(1 for p in probes if p == float("inf"))
    print(f"\nburst {path}: {codes.count(200)} answered 200, {codes.count(503)} answered 503 "
          f"(Retry-After {retry}; slowest 503 after {max(fast, default=0):.2f} s), {codes.count(504)} "
          f"answered 504, {codes.count(-1)} lost; /healthz probes: {len(probes)}, {failed} failed, "
          f"slowest {max([p for p in probes if p != float('inf')], default=0):.2f} s", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--model", default="smollm2-135m")
    ap.add_argument("--dataset", default="ml-1m")
    ap.add_argument("--k", type=int, default=3)
    ap.add_argument("--mode", default="catalog")
    ap.add_argument("--levels", type=lambda s: [int(x) for x in s.split(",")], default=[1, 4, 8, 16])
    ap.add_argument("--rounds", type=int, default=2, help="requests per client at each level")
    ap.add_argument("--burst", type=int, default=64)
    ap.add_argument("--crs-burst", type=int, default=0, help="chat turns sent to /crs/turn at once")
    ap.add_argument("--max-batch", type=int, default=8)
    ap.add_argument("--queue-max", type=int, default=16)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--server-timeout", type=float, default=600)
    ap.add_argument("--client-timeout", type=float, default=900)
    ap.add_argument("--time-limit", type=float, default=1200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--serve-args", default="", help="more `ctrlrec serve` options, e.g. "
                    "'--pool-mode grounded --teacher RUN' (one string, split like a shell)")
    a = ap.parse_args()

    port = free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src"), "HF_HUB_OFFLINE": "1"}
    cmd = [sys.executable, "-m", "ctrlrec.cli", "serve", a.model, "--dataset", a.dataset,
           "--host", "127.0.0.1", "--port", str(port), "--max-batch", str(a.max_batch),
           "--queue-max", str(a.queue_max), "--timeout-s", str(a.server_timeout),
           "--threads", str(a.threads), *shlex.split(a.serve_args)]
    log = open(Path(os.environ.get("TMPDIR", "/tmp")) / f"ctrlrec-serve-load-{port}.log", "w")
    server = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        import httpx

        deadline = time.monotonic() + 600
        while True:
            if server.poll() is not None:
                raise SystemExit(f"server exited with {server.returncode}; see {log.name}")
            try:
                if httpx.get(url + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise SystemExit("server did not come up in 600 s")
            time.sleep(1)
        print(f"server: {' '.join(cmd[3:])}")
        print(f"k={a.k}, mode {a.mode}, {a.rounds} requests per client per level")
        asyncio.run(asyncio.wait_for(drive(a, url), a.time_limit))
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


if __name__ == "__main__":
    main()
