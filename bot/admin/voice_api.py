"""/api/v1/suggestions and /api/v1/surveys/{key}/results: the same queries and scoping as the
pages (registered on the API blueprint of ``bot.admin.api``). Suggestions carry no author field
of any kind, named or anonymous."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify, request

from bot.admin import web
from bot.admin.api import MAX_LIMIT, bp, jsonable, scope
from bot.admin.suggestions import SuggestionFilters, suggestion_dict, suggestions_query
from bot.admin.surveys import scoped_results
from handlers.surveys import templates
from models import utcnow


@bp.route("/suggestions")
def suggestions() -> Response:
    session = web.db()
    filters = SuggestionFilters.from_args(request.args)
    if filters.errors:
        abort(400, description=filters.errors[0])
    stmt = suggestions_query(session, scope(), filters)
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), MAX_LIMIT)
    offset = max(request.args.get("offset", 0, type=int) or 0, 0)
    total = web.count(stmt)
    now = utcnow()
    items = [jsonable(suggestion_dict(s, now)) for s in session.scalars(stmt.limit(limit).offset(offset))]
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset})


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


@bp.route("/surveys/<key>/results")
def survey_results(key: str) -> Response:
    if key not in templates():
        abort(404)
    data = scoped_results(web.db(), scope(), key, None)
    for q in data["questions"]:
        if "options" in q:
            q["options"] = [
                {"option": o, "count": c, "percent": round(p, 2), "base": base}
                for (o, c, p), base in zip(q["options"], q.pop("bases"), strict=True)
            ]
        for g, summary in (q.get("groups") or {}).items():
            if summary and "options" in summary:
                summary["options"] = [
                    {"option": o, "count": c, "percent": round(p, 2), "base": base}
                    for (o, c, p), base in zip(summary["options"], summary.pop("bases"), strict=True)
                ]
            q["groups"][g] = summary
    return jsonify(_plain(data))
