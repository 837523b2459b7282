"""Statements per request, for the load benchmark only (``GHPP_BENCH_SQL_COUNT=1``; off by default).

Counts every statement the engine sends while a request is served and returns the count in
the ``X-Bench-SQL`` response header. The counter is per process: exact under gunicorn's
sync workers (one request at a time per process), which is how the service is deployed.
"""

from __future__ import annotations

import threading
from typing import Any

from flask import Flask, Response
from sqlalchemy import Engine, event

HEADER = "X-Bench-SQL"
SETTING = "GHPP_BENCH_SQL_COUNT"


class StatementCounter:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self, *_args: Any) -> None:
        with self._lock:
            self.count += 1

    def take(self) -> int:
        with self._lock:
            value, self.count = self.count, 0
        return value


def install(app: Flask, engine: Engine) -> StatementCounter:
    counter = StatementCounter()
    event.listen(engine, "before_cursor_execute", counter.add)

    @app.before_request
    def _reset() -> None:
        counter.take()

    @app.after_request
    def _report(response: Response) -> Response:
        response.headers[HEADER] = str(counter.take())
        return response

    return counter
