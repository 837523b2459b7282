"""The process's runtime, for entry points that are not requests (the RQ worker's jobs).

A web request finds its runtime on the Flask app; a job run by RQ in a worker process has no
app, so ``create_app`` records the runtime here. Kept apart from ``bot.runtime`` so the job
runner can reach it without importing the module that builds it.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.runtime import Runtime

_current: Runtime | None = None
_lock = threading.Lock()


def set_current(runtime: Runtime) -> Runtime:
    global _current
    with _lock:
        _current = runtime
    return runtime


def current() -> Runtime:
    if _current is None:
        raise RuntimeError("no runtime: create the app (bot.create_app) first")
    return _current
