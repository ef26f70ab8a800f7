"""The hot-path group-commit writer (PERF-NOTES): one task per process turns every pending
submit into one transaction, so a webhook answers 2xx only once its message is durable."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from .ingest import IngestItem, IngestResult, write_batch

if TYPE_CHECKING:
    from .store import Store

log = logging.getLogger(__name__)

MAX_BATCH = 1024
DEFAULT_ACK_TIMEOUT_SECONDS = 300.0

_Pending = tuple[IngestItem, "asyncio.Future[IngestResult]"]


class WriterStopped(RuntimeError):
    """submit() after stop(): the caller should answer 503 so the platform retries elsewhere."""


class GroupCommitWriter:
    def __init__(
        self,
        store: Store,
        *,
        ack_timeout_seconds: float = DEFAULT_ACK_TIMEOUT_SECONDS,
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._store = store
        # The first re-notify timer is set as the escalation is created, in the same transaction.
        self._renotify_after = timedelta(seconds=ack_timeout_seconds)
        self._max_batch = max_batch
        self._queue: asyncio.Queue[_Pending | None] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None
        self._stopping = False

    async def start(self) -> None:
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="group-commit-writer")

    async def stop(self) -> None:
        """Stop accepting, write everything already submitted, then end the task."""
        if self._task is None:
            return
        self._stopping = True
        self._queue.put_nowait(None)
        await self._task
        self._task = None

    async def submit(self, item: IngestItem) -> IngestResult:
        if self._stopping or self._task is None:
            raise WriterStopped("the group-commit writer is not running")
        future: asyncio.Future[IngestResult] = asyncio.get_running_loop().create_future()
        self._queue.put_nowait((item, future))
        return await future

    async def _run(self) -> None:
        while True:
            first = await self._queue.get()
            batch: list[_Pending] = []
            stop_seen = first is None
            if first is not None:
                batch.append(first)
            # Take whatever else is already waiting, without waiting for more: a drain timer
            # measured far worse than draining as soon as the writer is idle.
            while len(batch) < self._max_batch and not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stop_seen = True
                else:
                    batch.append(nxt)
            if batch:
                await self._write(batch)
            if stop_seen and self._queue.empty():
                return
            if stop_seen:
                # Submits that raced the stop are still written: re-arm the sentinel behind them.
                self._queue.put_nowait(None)

    async def _write(self, batch: list[_Pending]) -> None:
        live = [(item, fut) for item, fut in batch if not fut.done()]
        if not live:
            return
        try:
            async with self._store.engine.begin() as conn:
                results = await write_batch(
                    conn,
                    [item for item, _ in live],
                    now=datetime.now(UTC),
                    renotify_after=self._renotify_after,
                )
        except asyncio.CancelledError:
            # Shut down mid-write: whether it committed is unknown, so the callers must answer 5xx.
            for _, fut in live:
                if not fut.done():
                    fut.set_exception(WriterStopped("writer cancelled during a write"))
            raise
        except Exception as exc:  # any failure fails the whole batch, by design (PERF-NOTES)
            log.error("group commit failed: batch_size=%d error=%s", len(live), type(exc).__name__)
            for _, fut in live:
                if not fut.done():
                    fut.set_exception(exc)
            return
        for (_, fut), result in zip(live, results, strict=True):
            if not fut.done():
                fut.set_result(result)
