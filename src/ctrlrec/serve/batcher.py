"""Micro-batching: requests that arrive within a few milliseconds are decoded in one forward pass.

One worker task takes the first waiting job, collects more for up to `max_wait_ms` or until
`max_batch`, and runs the batch on a single worker thread (decoding blocks; the event loop keeps
accepting and rejecting requests meanwhile). The waiting line is bounded twice: when it is full, or
when the wait it predicts (the jobs ahead x the recent mean time per job) is past the request's
timeout, `submit` raises `Overloaded` at once with a Retry-After estimate, instead of admitting a
request that could only end in a timeout. A caller that times out cancels its future; the worker skips
cancelled jobs, so an abandoned request never costs decoding time unless it had already started.
"""

from __future__ import annotations

import asyncio
import math
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

HEADROOM = 0.8  # admit only what the prediction answers within 80% of the timeout: batch times vary


class Overloaded(Exception):
    def __init__(self, retry_after: int):
        super().__init__(f"the service is busy; retry after {retry_after} s")
        self.retry_after = retry_after


class TimedOut(Exception):
    pass


@dataclass
class _Entry:
    job: object
    future: asyncio.Future
    queued: float = field(default_factory=time.perf_counter)


class MicroBatcher:
    def __init__(self, run_batch, max_batch: int = 8, max_wait_ms: float = 10.0, queue_max: int = 64):
        self.run_batch = run_batch
        self.max_batch, self.max_wait = max_batch, max_wait_ms / 1000
        self.queue: asyncio.Queue[_Entry] = asyncio.Queue(maxsize=queue_max)
        self.executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ctrlrec-decode")
        self.batch_seconds = 1.0  # running mean of a batch's decoding time, for Retry-After
        self.batches = 0
        self.served = 0
        self.busy = 0  # jobs in the batch decoding now
        self.item_seconds = 0.0  # running mean of a batch's time per job, for admission
        self._task: asyncio.Task | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._loop())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self.executor.shutdown(wait=False, cancel_futures=True)

    def retry_after(self) -> int:
        waiting_batches = self.queue.qsize() / self.max_batch + 1
        return max(1, math.ceil(waiting_batches * self.batch_seconds))

    def predicted_wait(self) -> float:
        """Seconds until a job submitted now is answered: the jobs ahead of it (the batch decoding, the
        line) and itself x the running mean time per job; 0 before any batch was measured."""
        if not self.batches:
            return 0.0
        # per job, not per batch: a mean taken from small batches (a warm-up of one) then
        # over-estimates a full batch's time rather than under-estimating it
        return (self.queue.qsize() + 1 + self.busy) * self.item_seconds

    async def submit(self, job, timeout: float):
        """The job's result; Overloaded when the line is full or its predicted wait is past `timeout`,
        TimedOut after `timeout` seconds."""
        self.start()
        fut = asyncio.get_running_loop().create_future()
        if self.predicted_wait() > HEADROOM * timeout:
            raise Overloaded(self.retry_after())
        try:
            self.queue.put_nowait(_Entry(job, fut))
        except asyncio.QueueFull:
            raise Overloaded(self.retry_after()) from None
        try:
            return await asyncio.wait_for(fut, timeout)
        except TimeoutError:
            raise TimedOut(f"no answer within {timeout:g} s") from None

    async def _collect(self) -> list[_Entry]:
        batch = [await self.queue.get()]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait
        while len(batch) < self.max_batch:
            left = deadline - loop.time()
            if left <= 0:
                break
            try:
                batch.append(await asyncio.wait_for(self.queue.get(), left))
            except TimeoutError:
                break
        return [e for e in batch if not e.future.done()]  # timed out or cancelled: skip

    async def _loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = await self._collect()
            if not batch:
                continue
            t0 = time.perf_counter()
            self.busy = len(batch)
            try:
                results = await loop.run_in_executor(self.executor, self.run_batch, [e.job for e in batch])
            except Exception as exc:  # one bad batch fails its requests, never the worker
                for e in batch:
                    if not e.future.done():
                        e.future.set_exception(exc)
                continue
            finally:
                self.busy = 0
            took = time.perf_counter() - t0
            self.batch_seconds = 0.8 * self.batch_seconds + 0.2 * took if self.batches else took
            per_job = took / len(batch)
            self.item_seconds = 0.8 * self.item_seconds + 0.2 * per_job if self.batches else per_job
            self.batches += 1
            self.served += len(batch)
            for e, r in zip(batch, results, strict=True):
                if not e.future.done():
                    e.future.set_result(r)
