"""/api/v1/suggestions: the inbox's query and scoping (registered on the API blueprint of
``bot.admin.api``). Suggestions carry no author field of any kind, named or anonymous."""

from __future__ import annotations

from flask import Response, abort, jsonify, request

from bot.admin import web
from bot.admin.api import MAX_LIMIT, bp, jsonable, scope
from bot.admin.suggestions.views import inbox_query
from handlers.suggestions.queries import SuggestionFilters, suggestion_dict
from models import utcnow


@bp.route("/suggestions")
def suggestions() -> Response:
    session = web.db()
    filters = SuggestionFilters.from_args(request.args)
    if filters.errors:
        abort(400, description=filters.errors[0])
    stmt = inbox_query(session, scope(), filters)
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), MAX_LIMIT)
    offset = max(request.args.get("offset", 0, type=int) or 0, 0)
    total = web.count(stmt)
    now = utcnow()
    items = [jsonable(suggestion_dict(s, now)) for s in session.scalars(stmt.limit(limit).offset(offset))]
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset})
