"""The dashboard's suggestions pages (``views``), their tables (``exports``) and the JSON API
route (``api``, on the API blueprint)."""

from bot.admin.suggestions import api as api
from bot.admin.suggestions.views import bp as bp
from bot.admin.suggestions.views import nav as nav
