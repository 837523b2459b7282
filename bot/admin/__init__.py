"""The web dashboard (/admin) and its JSON API (/api/v1).

Each domain is one module here with a blueprint ``bp`` (URL prefix /admin/<domain>) that
declares its menu entry as ``nav = web.NavItem.of(...)``; list it in ``DOMAINS`` and it is served,
protected by login and CSRF, and shown in the menu. See docs/zh/admin.md.
"""

from __future__ import annotations

from flask import Flask

from bot.admin import (  # the *_api modules add their routes to the API blueprint, auth its pages to web's
    accounts,
    api,
    audit,
    auth,  # noqa: F401
    brands,
    brands_api,  # noqa: F401
    learning,
    overview,
    overview_api,  # noqa: F401
    programme,
    recognition,
    suggestions,
    surveys,
    unions,
    unions_api,  # noqa: F401
    web,
)
from bot.admin.programme import api as programme_api  # noqa: F401  (adds its routes to the API blueprint)

# Order = order in the menu. Add a domain module here (one line) to serve its pages.
DOMAINS = (
    overview,
    unions,
    brands,
    programme,
    suggestions,
    surveys,
    recognition,
    learning,
    accounts,
    audit,
)


def init_app(app: Flask) -> None:
    web.NAV[:] = [module.nav for module in DOMAINS]
    web.init_app(app)
    app.register_blueprint(web.bp)
    for module in DOMAINS:
        app.register_blueprint(module.bp)
    app.register_blueprint(api.bp)
