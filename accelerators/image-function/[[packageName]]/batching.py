"""Micro-batching: requests that arrive together share one model call.

Requests put (array, model) items on a bounded queue; one worker thread owns the model calls. It takes
whatever is queued (up to `max_batch_size`) as soon as the model is free, so a lone request never waits.
It waits up to `max_wait_ms` for more only while other requests are still being decoded, which is when a
fuller batch is about to arrive. A full queue refuses new work at once (the API answers 503), so memory
and latency stay bounded under any load.

Each item remembers the model it was prepared for; during a model swap a batch is split by model, so
every request is answered by the model whose input size it was resized to.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections import Counter, deque
from collections.abc import Iterator
from concurrent.futures import Future
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from .model import LoadedModel

log = logging.getLogger(__name__)

LOAD_WINDOW = 1.0  # seconds of history behind the expected batch size


class QueueFull(Exception):
    """The batcher has `queue_size` requests waiting already."""


@dataclass
class _Item:
    array: np.ndarray
    model: LoadedModel
    future: Future


class _Ticket:
    def __init__(self, batcher: MicroBatcher) -> None:
        self._batcher = batcher
        self._open = True
        batcher._announce(1)

    def withdraw(self) -> None:
        if self._open:
            self._open = False
            self._batcher._announce(-1)

    def submit(self, array: np.ndarray, model: LoadedModel) -> Future:
        self.withdraw()
        return self._batcher.submit(array, model)


class MicroBatcher:
    def __init__(self, max_batch_size: int, max_wait_ms: float, queue_size: int) -> None:
        self.max_batch_size = max_batch_size
        self.max_wait = max_wait_ms / 1000.0
        self._queue: queue.Queue[_Item | None] = queue.Queue(maxsize=queue_size)
        self._arriving = 0
        self._arriving_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self.batch_sizes: Counter[int] = Counter()
        self._loads: deque[tuple[float, int]] = deque()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="micro-batcher", daemon=True)
            self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join(timeout)
            self._thread = None
        calls = sum(self.batch_sizes.values())
        if calls:
            items = sum(size * count for size, count in self.batch_sizes.items())
            log.info(
                "served %d images in %d model calls (mean batch %.1f; sizes %s)",
                items,
                calls,
                items / calls,
                dict(sorted(self.batch_sizes.items())),
            )

    @contextmanager
    def arriving(self) -> Iterator[_Ticket]:
        """Announce a request that is being read and decoded, so the worker may wait for it.

        Submit through the ticket: it withdraws the announcement in the same step as it queues the item.
        """
        ticket = _Ticket(self)
        try:
            yield ticket
        finally:
            ticket.withdraw()

    def submit(self, array: np.ndarray, model: LoadedModel) -> Future:
        """Queue one image; the future resolves to its probability vector. Raises QueueFull."""
        item = _Item(array, model, Future())
        try:
            self._queue.put_nowait(item)
        except queue.Full:
            raise QueueFull from None
        return item.future

    def _announce(self, delta: int) -> None:
        with self._arriving_lock:
            self._arriving += delta

    @property
    def depth(self) -> int:
        return self._queue.qsize()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = self._collect(first)
            stop = batch and batch[-1] is None
            items = [item for item in batch if item is not None]
            self._execute(items)
            if stop:
                return

    def _collect(self, first: _Item) -> list[_Item | None]:
        """Take what is queued; wait (at most max_wait) for more while more are on their way.

        "On their way" means requests still being read and decoded, or, under steady load, as many
        requests as recently arrived together: with 16 busy clients the next 16 requests come in a
        burst, and one full model call serves them better than several small ones.
        """
        batch: list[_Item | None] = [first]
        now = time.monotonic()
        deadline = now + self.max_wait
        target = min(self.max_batch_size, self._recent_load(now, 1 + self._queue.qsize() + self._arriving))
        while len(batch) < self.max_batch_size:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or (self._arriving <= 0 and len(batch) >= target):
                    break
                try:
                    item = self._queue.get(timeout=min(remaining, 0.002))
                except queue.Empty:
                    continue
            batch.append(item)
            if item is None:
                break
        self._loads.append((now, len(batch)))
        return batch

    def _recent_load(self, now: float, load: int) -> int:
        """The most requests seen together in the last LOAD_WINDOW seconds, counting `load` now."""
        self._loads.append((now, load))
        while self._loads and self._loads[0][0] < now - LOAD_WINDOW:
            self._loads.popleft()
        return max(seen for _, seen in self._loads)

    def _execute(self, items: list[_Item]) -> None:
        groups: dict[int, list[_Item]] = {}
        for item in items:
            groups.setdefault(id(item.model), []).append(item)
        for group in groups.values():
            live = [item for item in group if item.future.set_running_or_notify_cancel()]
            if not live:
                continue
            try:
                probabilities = live[0].model.predict(np.stack([item.array for item in live]))
            except Exception as exc:  # a model failure fails this batch, never the worker
                log.exception("model call failed for a batch of %d", len(live))
                for item in live:
                    item.future.set_exception(exc)
                continue
            self.batch_sizes[len(live)] += 1
            for item, row in zip(live, probabilities, strict=True):
                item.future.set_result(row)
