"""H5 pages inside WeChat (/h5): campaigns with brand cards, long surveys, my suggestions.

Server-rendered, mobile-first, in Chinese, and usable without JavaScript. Sign-in is WeChat's web
sign-in (snsapi_base) where the account has it, a one-time chat link otherwise, and a simulated
sign-in in the demo.
"""

from __future__ import annotations

from flask import Flask

from bot.h5 import campaigns, signin, suggestions, surveys  # noqa: F401  (their routes are on web.bp)
from bot.h5.links import H5Links
from bot.h5.web import bp


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    # The chat links to these pages only when they are served.
    runtime = app.extensions["ghpp"]
    runtime.pipeline.page_links = H5Links(runtime)
