"""The web dashboard (/admin) and its JSON API (/api/v1).

Each domain is a module or package here with a blueprint ``bp`` (URL prefix /admin/<domain>), a
menu entry ``nav = web.NavItem.of(...)`` and ``init_admin(app)``, which serves its pages and adds
its overview panels; list it in ``DOMAINS`` and it is served, protected by login and CSRF, and
shown in the menu. A panel key claimed twice stops the start-up. See docs/zh/admin.md.
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
    app.extensions["admin_nav"] = [module.nav for module in DOMAINS]
    web.init_app(app)
    app.register_blueprint(web.bp)
    for module in DOMAINS:
        module.init_admin(app)
    app.register_blueprint(api.bp)
