"""The app served on a free local port in a thread, for the browser tests."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

from flask import Flask
from werkzeug.serving import make_server


@contextlib.contextmanager
def serving(app: Flask) -> Iterator[str]:
    """The app's base URL while the block runs. The browser talks plain http to 127.0.0.1, so
    session cookies drop their Secure flag here (production keeps it)."""
    app.config["SESSION_COOKIE_SECURE"] = False
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}"
    finally:
        server.shutdown()
        thread.join(timeout=5)
        server.server_close()
