"""Background processing of inbox events: one sender at a time, senders in parallel.

A task works for one sender: it takes that sender's lock (in-process, or in Redis when several
webhook processes share the database), claims the sender's oldest due event in the database,
processes it, then goes back to the end of the thread pool's queue so a chatty sender cannot
starve the others. The database is the queue and the source of truth; the lock only keeps two
workers from racing for the same user. After letting go of a lock the task looks once more for
work, which closes the gap where another process queued an event while we held the lock.

Nothing is kept only in memory: events left in progress by a dead process go back to pending
(at start-up, or after the claim lease in multi-process mode), and a periodic sweep picks up
whatever is due (retries after a Rasa outage, events accepted by a process that died).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from bot import clock
from bot.channel.inbox import ClaimedEvent, Inbox
from bot.channel.sender_locks import LocalSenderLocks, SenderLock, SenderLocks
from bot.db import messaging as m

log = logging.getLogger(__name__)

# → (final status, error). PENDING means "try again later" (the handler set `not_before`).
Handler = Callable[[ClaimedEvent], "tuple[str, str | None]"]


class Dispatcher:
    def __init__(
        self,
        inbox: Inbox,
        handler: Handler,
        *,
        workers: int = 4,
        sweep_interval: float | None = 10.0,
        sweep_grace: float = 5.0,
        claim_lease: float | None = None,
        locks: SenderLocks | None = None,
        periodic: list[Callable[[], object]] | None = None,
        on_lock_unavailable: Handler | None = None,
    ):
        self.inbox = inbox
        # Redis down (multi-process mode): what to do with the sender's next event meanwhile.
        self.on_lock_unavailable = on_lock_unavailable
        self.periodic = list(periodic or [])  # other chores of each sweep (payment notices owed)
        self.handler = handler
        self.locks = locks or LocalSenderLocks()
        self.sweep_interval = sweep_interval
        self.sweep_grace = timedelta(seconds=sweep_grace)
        self.claim_lease = None if claim_lease is None else timedelta(seconds=claim_lease)
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="mobilis-event")
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._scheduled: set[str] = set()  # senders with a task queued or running here
        self._again: set[str] = set()  # senders submitted while their task was running
        self._held: dict[str, SenderLock] = {}  # locks kept between two tasks of a busy sender
        self._running: set[int] = set()  # event ids being processed here (their claims are renewed)
        self._stopping = threading.Event()
        self._sweeper: threading.Thread | None = None
        self.started = False

    def start(self) -> None:
        """Resume what a previous run left: in-progress rows back to pending, then all that is due."""
        self.started = True
        self.inbox.requeue_in_progress(self.claim_lease)
        resumed = self.sweep(grace=False)
        if resumed:
            log.info("resuming pending events of %d sender(s)", resumed)
        if self.sweep_interval:
            self._sweeper = threading.Thread(target=self._sweep_loop, name="mobilis-sweeper", daemon=True)
            self._sweeper.start()

    def submit(self, sender_id: str, event_id: int | None = None) -> None:
        """Make sure a task will look at this sender's events (the id itself is in the database)."""
        with self._lock:
            if not self.started or self._stopping.is_set():
                return  # the row stays pending for the next start or sweep
            if sender_id in self._scheduled:
                self._again.add(sender_id)
                return
            self._scheduled.add(sender_id)
        self._schedule(sender_id)

    def sweep(self, grace: bool = True) -> int:
        """Look at every sender with due pending events (older than the grace delay, so the sweep
        does not duplicate the webhook's own submit); returns how many senders were found."""
        before = clock.utcnow() - self.sweep_grace if grace else None
        senders = self.inbox.due_senders(received_before=before)
        for sender in senders:
            self.submit(sender)
        return len(senders)

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once nothing is queued or running here (tests and graceful shutdown)."""
        with self._idle:
            return self._idle.wait_for(lambda: not self._scheduled, timeout=timeout)

    def stop(self, wait: bool = True) -> None:
        self._stopping.set()
        self._pool.shutdown(wait=wait, cancel_futures=not wait)
        with self._lock:
            held, self._held = list(self._held.values()), {}
        for lock in held:
            lock.release()

    def _schedule(self, sender_id: str) -> None:
        try:
            self._pool.submit(self._run, sender_id)
        except RuntimeError:  # pool shut down meanwhile: the rows stay pending for the next start
            self._task_done(sender_id, again=False)

    def _run(self, sender_id: str) -> None:
        again = False
        try:
            again = self._work_once(sender_id)
        except Exception:  # never lose the task bookkeeping; the row stays pending for the sweep
            log.exception("worker task for a sender failed")
        finally:
            self._task_done(sender_id, again)

    def _work_once(self, sender_id: str) -> bool:
        """Process at most one event; True when the sender should be looked at again."""
        with self._lock:
            lock = self._held.pop(sender_id, None)
        if lock is None:
            try:
                lock = self.locks.acquire(sender_id)
            except Exception as exc:  # Redis unreachable: the event waits for the next sweep
                log.warning("sender lock unavailable (%s); retry at next sweep", type(exc).__name__)
                self._stalled(sender_id)
                return False
            if lock is None:
                return False  # another process works for this user and will see our event
        try:
            event = self.inbox.claim_next(sender_id)
        except Exception:
            lock.release()
            log.exception("could not claim the next event (left pending for the next sweep)")
            return False
        if event is None:
            lock.release()
            # Checked after the release: an event queued while we held the lock is not stranded.
            return self.inbox.next_due(sender_id) is not None
        self._process(event)
        if self._stopping.is_set() or not lock.renew():
            lock.release()
        else:
            with self._lock:
                self._held[sender_id] = lock
        return True

    def _task_done(self, sender_id: str, again: bool) -> None:
        with self._lock:
            again = (again or sender_id in self._again) and not self._stopping.is_set()
            self._again.discard(sender_id)
            if not again:
                self._scheduled.discard(sender_id)
                lock = self._held.pop(sender_id, None)
                self._idle.notify_all()
        if again:
            self._schedule(sender_id)
        elif lock is not None:
            lock.release()

    def _process(self, event: ClaimedEvent) -> None:
        with self._lock:
            self._running.add(event.id)
        try:
            status, error = self.handler(event)
        except Exception as exc:  # a bug must not kill the worker; the row keeps the reason
            log.exception("event %s failed", event.id)
            status, error = m.FAILED, f"{type(exc).__name__}: {exc}"
        try:
            self.inbox.finish(event.id, status, error)
        except Exception:
            log.exception("could not record the end of event %s (it will be resumed)", event.id)
        finally:
            with self._lock:
                self._running.discard(event.id)

    def _stalled(self, sender_id: str) -> None:
        """The user is not left in silence while the locks are unreachable: their next event gets
        the usual apology once, then the retry window applies (given up with a message at its end).
        Claiming is a database operation, so this stays one-at-a-time without the lock."""
        if self.on_lock_unavailable is None:
            return
        try:
            event = self.inbox.claim_next(sender_id)
        except Exception:
            log.exception("could not claim the next event of a stalled sender")
            return
        if event is None:
            return
        try:
            status, error = self.on_lock_unavailable(event)
        except Exception as exc:
            log.exception("stalled sender handling failed for event %s", event.id)
            status, error = m.PENDING, f"stalled: {type(exc).__name__}"
        self.inbox.finish(event.id, status, error)

    def _sweep_loop(self) -> None:
        while not self._stopping.wait(self.sweep_interval):
            try:
                if self.claim_lease is not None:
                    with self._lock:
                        running = list(self._running)
                    self.inbox.heartbeat(running)
                    self.inbox.requeue_in_progress(self.claim_lease)
                self.sweep()
            except Exception:
                log.exception("inbox sweep failed")
            for chore in self.periodic:
                try:
                    chore()
                except Exception:
                    log.exception("periodic chore %s failed", getattr(chore, "__name__", chore))
