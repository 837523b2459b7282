"""Surveys in the dashboard (/admin/surveys): the list, open and close, results, exports, the
overview's participation panel and the results API.

Importing the package adds the results route to the API blueprint (``api``).
"""

from bot.admin.surveys import api as api
from bot.admin.surveys.views import bp as bp
from bot.admin.surveys.views import nav as nav
from bot.admin.surveys.views import participation_panel as participation_panel
