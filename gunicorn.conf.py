"""gunicorn settings for production: ``gunicorn -c gunicorn.conf.py 'bot:create_app()'``.

``preload_app``: the app (settings, the jieba dictionary, the router) is built once in the
master and the workers are forked from it, so they share those pages instead of loading the
NLP stack once each, and a worker answers as soon as it is forked. What must not be shared is
reset in ``post_fork``: the database pool (the master's sockets); Redis clients reconnect by
themselves in a new process.
"""

from __future__ import annotations

from typing import Any

bind = "127.0.0.1:8000"
workers = 4
preload_app = True


def post_fork(server: Any, worker: Any) -> None:
    from bot.runtime import Runtime

    Runtime.current().after_fork()


def when_ready(server: Any) -> None:
    """Build the router for the current catalogue in the master, before the workers fork: they
    share it (its first check in a worker finds the catalogue unchanged)."""
    from bot.runtime import Runtime

    runtime = Runtime.current()
    with runtime.session_factory() as session:
        runtime.routers.get(session)
    runtime.engine.dispose()
