"""One worker at a time per Messenger user, across threads and processes.

A user's messages must reach Rasa one after the other, in the order they were sent. Inside one
process a plain lock per sender is enough; with several webhook processes (gunicorn workers,
machines) the lock lives in Redis (redis-py's `Lock`: SET NX PX + token-checked release), with a
lease so that a process killed while holding it only delays that user until the lease runs out.
"""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:  # redis is only installed for the multi-process deployment
    from redis.lock import Lock

log = logging.getLogger(__name__)


class SenderLock(Protocol):
    def renew(self) -> bool: ...  # False: the lock was lost (lease ran out), stop working for this user
    def release(self) -> None: ...


class SenderLocks(Protocol):
    def acquire(self, sender_id: str) -> SenderLock | None: ...  # None: someone else holds it


class _LocalLock:
    def __init__(self, owner: LocalSenderLocks, sender_id: str):
        self._owner, self._sender = owner, sender_id

    def renew(self) -> bool:
        return True

    def release(self) -> None:
        with self._owner._guard:
            self._owner._held.discard(self._sender)


class LocalSenderLocks:
    """In-process locks: correct for the embedded single-process default."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held: set[str] = set()

    def acquire(self, sender_id: str) -> SenderLock | None:
        with self._guard:
            if sender_id in self._held:
                return None
            self._held.add(sender_id)
        return _LocalLock(self, sender_id)


class _RedisLock:
    def __init__(self, lock: Lock):
        self._lock = lock

    def renew(self) -> bool:
        try:
            self._lock.reacquire()  # back to a full lease, only if we still own it
            return True
        except Exception as exc:  # LockNotOwnedError, or Redis unreachable
            log.warning("sender lock lost (%s)", type(exc).__name__)
            return False

    def release(self) -> None:
        try:
            self._lock.release()
        except Exception as exc:  # expired meanwhile, or Redis unreachable: the lease ends it
            log.warning("sender lock release failed (%s)", type(exc).__name__)


class RedisSenderLocks:
    """Locks shared by every webhook process using the same Redis."""

    PREFIX = "mobilis:sender-lock:"

    def __init__(self, redis_url: str, lease_seconds: float):
        import redis  # only needed in the multi-process deployment

        self._redis = redis.Redis.from_url(redis_url, socket_timeout=2, socket_connect_timeout=2)
        self.lease = lease_seconds

    def acquire(self, sender_id: str) -> SenderLock | None:
        lock = self._redis.lock(self.PREFIX + sender_id, timeout=self.lease, blocking=False)
        # Redis down raises here: the dispatcher leaves the event pending for its next sweep.
        return _RedisLock(lock) if lock.acquire() else None

    def close(self) -> None:
        self._redis.close()
