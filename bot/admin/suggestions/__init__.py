"""The dashboard's suggestions pages (``views``), their tables (``exports``) and the JSON API
route (``api``, on the API blueprint)."""

from flask import Flask

from bot.admin.suggestions import api as api
from bot.admin.suggestions import views
from bot.admin.suggestions.views import bp as bp
from bot.admin.suggestions.views import nav as nav


def init_admin(app: Flask) -> None:
    """Serve this domain's pages and overview panel (called once, by ``bot.admin.init_app``)."""
    app.register_blueprint(bp)
    views.register_panels(app)
