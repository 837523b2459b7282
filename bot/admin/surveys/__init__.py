"""Surveys in the dashboard (/admin/surveys): the list, open and close, results, exports, the
overview's participation panel and the results API.

Importing the package adds the results route to the API blueprint (``api``).
"""

from flask import Flask

from bot.admin.surveys import api as api
from bot.admin.surveys.views import bp as bp
from bot.admin.surveys.views import nav as nav
from bot.admin.surveys.views import participation_panel as participation_panel


def init_admin(app: Flask) -> None:
    """Serve this domain's pages (called once, by ``bot.admin.init_app``)."""
    app.register_blueprint(bp)
