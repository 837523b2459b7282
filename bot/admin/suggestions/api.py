"""/api/v1/suggestions: the inbox's query and scoping (registered on the API blueprint of
``bot.admin.api``). Suggestions carry no author field of any kind, named or anonymous."""

from __future__ import annotations

from flask import Response, abort, request

from bot.admin import web
from bot.admin.api import bp, listing, scope
from bot.admin.suggestions.views import inbox_query
from handlers.suggestions.queries import SuggestionFilters, suggestion_dict
from models import utcnow


@bp.route("/suggestions")
def suggestions() -> Response:
    session = web.db()
    filters = SuggestionFilters.from_args(request.args)
    if filters.errors:
        abort(400, description=filters.errors[0])
    now = utcnow()
    return listing(inbox_query(session, scope(), filters), lambda s: suggestion_dict(s, now))
