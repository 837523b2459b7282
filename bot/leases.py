"""Renewal of the duplicate filter's leases while messages are being worked on (see ``bot.pipeline``)."""

from __future__ import annotations

import contextlib
import threading
import time

from bot.store import Store, StoreUnavailable


class Leases:
    """Renews the leases of messages being worked on, from one thread, while any are held."""

    def __init__(self, store: Store, lease_s: float) -> None:
        self.store = store
        self.lease_s = lease_s
        self._held: dict[str, str] = {}
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def hold(self, key: str, token: str) -> None:
        with self._lock:
            self._held[key] = token
            if self._thread is None:
                self._thread = threading.Thread(target=self._renew, name="lease-renewal", daemon=True)
                self._thread.start()

    def drop(self, key: str) -> None:
        with self._lock:
            self._held.pop(key, None)

    def _renew(self) -> None:
        while True:
            time.sleep(self.lease_s / 3)
            with self._lock:
                if not self._held:
                    self._thread = None
                    return
                held = list(self._held.items())
            for key, token in held:
                with contextlib.suppress(StoreUnavailable):
                    self.store.extend_if_equals(key, token, self.lease_s)
