"""Background processing of inbox events: one sender at a time, senders in parallel.

Each sender has an in-memory FIFO of event ids; a sender with work holds at most one task in the
thread pool, and after each event its task goes back to the end of the pool's queue so a chatty
sender cannot starve the others. The database stays the source of truth: ids are claimed there
before processing, pending rows are picked up again at start-up and by a periodic sweep (which
also catches events accepted by another process). A Redis-backed queue can later replace the
in-memory FIFOs without touching the inbox or the processor.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Callable

from bot.channel.inbox import ClaimedEvent, Inbox
from bot.db import messaging as m

log = logging.getLogger(__name__)

Handler = Callable[[ClaimedEvent], "tuple[str, str | None]"]  # → (final status, error)


class Dispatcher:
    def __init__(self, inbox: Inbox, handler: Handler, *, workers: int = 4,
                 sweep_interval: float | None = 10.0, sweep_grace: float = 5.0,
                 claim_lease: float | None = None):
        self.inbox = inbox
        self.handler = handler
        self.sweep_interval = sweep_interval
        self.sweep_grace = timedelta(seconds=sweep_grace)
        self.claim_lease = None if claim_lease is None else timedelta(seconds=claim_lease)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mobilis-event")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._queues: dict[str, deque[int]] = {}
        self._known: set[int] = set()  # queued or running ids, so no id is queued twice
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.started = False

    def start(self) -> None:
        """Resume what a previous run left: in-progress rows back to pending, then all pending."""
        self.started = True
        self.inbox.requeue_in_progress(self.claim_lease)
        resumed = self.sweep(grace=False)
        if resumed:
            log.info("resuming %d pending event(s)", resumed)
        if self.sweep_interval:
            self._sweeper = threading.Thread(target=self._sweep_loop, name="mobilis-sweeper", daemon=True)
            self._sweeper.start()

    def submit(self, sender_id: str, event_id: int) -> None:
        """Queue an accepted event; before start() it simply stays pending in the database."""
        with self._lock:
            if not self.started or self._stopping.is_set() or event_id in self._known:
                return
            self._known.add(event_id)
            queue = self._queues.get(sender_id)
            if queue is not None:
                queue.append(event_id)  # the sender's running task will reach it
                return
            self._queues[sender_id] = deque([event_id])
        self._schedule(sender_id)

    def sweep(self, grace: bool = True) -> int:
        """Queue pending rows not queued yet (older than the grace delay, so we do not overtake
        the webhook's own submit)."""
        before = m.utcnow() - self.sweep_grace if grace else None
        rows = self.inbox.pending(received_before=before)
        with self._lock:
            fresh = [(event_id, sender) for event_id, sender in rows if event_id not in self._known]
        for event_id, sender in fresh:
            self.submit(sender, event_id)
        return len(fresh)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing is queued or running (tests and graceful shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._known, timeout=timeout)

    def stop(self, wait: bool = True) -> None:
        self._stopping.set()
        self._pool.shutdown(wait=wait, cancel_futures=not wait)

    def _run_next(self, sender_id: str) -> None:
        with self._lock:
            queue = self._queues[sender_id]
            event_id = queue.popleft()
        try:
            self._process(event_id)
        finally:
            with self._lock:
                self._known.discard(event_id)
                more = bool(queue) and not self._stopping.is_set()
                if not more:
                    del self._queues[sender_id]
                self._idle.notify_all()
            if more:
                self._schedule(sender_id)

    def _schedule(self, sender_id: str) -> None:
        try:
            self._pool.submit(self._run_next, sender_id)
        except RuntimeError:  # pool shut down meanwhile: the rows stay pending for the next start
            log.warning("dispatcher stopped; sender's events left pending")

    def _process(self, event_id: int) -> None:
        try:
            event = self.inbox.claim(event_id)
        except Exception:
            log.exception("could not claim event %s (left pending for the next sweep)", event_id)
            return
        if event is None:
            return  # done elsewhere meanwhile
        try:
            status, error = self.handler(event)
        except Exception as exc:  # a bug must not kill the worker; the row keeps the reason
            log.exception("event %s failed", event_id)
            status, error = m.FAILED, f"{type(exc).__name__}: {exc}"
        try:
            self.inbox.finish(event_id, status, error)
        except Exception:
            log.exception("could not record the end of event %s (it will be resumed)", event_id)

    def _sweep_loop(self) -> None:
        while not self._stopping.wait(self.sweep_interval):
            try:
                if self.claim_lease is not None:
                    self.inbox.requeue_in_progress(self.claim_lease)
                self.sweep()
            except Exception:
                log.exception("inbox sweep failed")
