"""The dashboard's way to its annotation database: opened when first needed, and again after a fault.

One :class:`StoreOpener` per database serves every session of a server. A database that cannot
be reached is not remembered for ever: the failure is kept for ``RETRY_AFTER`` seconds, during
which every session is answered at once (read-only, with the reason) instead of waiting on the
database again; the first run after that tries again, so a database that comes back is used
without restarting the server. The same holds for a store that worked and then lost its server
(a call failed as "unavailable" or "timeout", see :class:`~evaldash.annotations.StoreError`).
No Streamlit here: ``ui.annotation_store`` caches one opener per database URL.
"""

from __future__ import annotations

import threading
import time

from evaldash.annotations import AnnotationStore, StoreError

RETRY_AFTER = 5.0  # s between attempts to reach a database that failed


class StoreOpener:
    """The :class:`AnnotationStore` of one database URL, or the reason it is unavailable now."""

    def __init__(self, url: str, retry_after: float | None = None):
        self.url = url
        self.retry_after = RETRY_AFTER if retry_after is None else retry_after
        self._store: AnnotationStore | None = None
        self._error = ""
        self._failed_at: float | None = None
        self._lock = threading.Lock()

    def get(self) -> tuple[AnnotationStore | None, str]:
        """``(store, "")`` when the database can be used, else ``(None, reason)``.

        Waits on the database (a few seconds at most, see ``annotations.CONNECT_TIMEOUT``) only
        when opening it, or when checking that it is back after ``retry_after``; meanwhile other
        callers get the last reason at once rather than queueing behind that check.
        """
        if not self._lock.acquire(blocking=not self._error):
            return None, self._error  # another session is checking the database right now
        try:
            now = time.monotonic()
            store = self._store
            if store is not None and store.failed_at is not None and store.failed_at > (self._failed_at or -1e300):
                self._failed(store.last_error, store.failed_at)  # one of its calls lost the server
            if self._failed_at is not None:
                if now - self._failed_at < self.retry_after:
                    return None, self._error
                try:
                    if store is None:
                        self._store = store = AnnotationStore(self.url)
                    else:
                        store.ping()
                except StoreError as exc:
                    self._failed(str(exc), time.monotonic())
                    return None, self._error
            elif store is None:
                try:
                    self._store = store = AnnotationStore(self.url)
                except StoreError as exc:
                    self._failed(str(exc), time.monotonic())
                    return None, self._error
            self._failed_at, self._error = None, ""
            return store, ""
        finally:
            self._lock.release()

    def _failed(self, error: str, when: float) -> None:
        self._error, self._failed_at = error, when
