"""/api/v1/surveys/{key}/results: the results page's figures and scoping as JSON (registered on
the API blueprint of ``bot.admin.api``)."""

from __future__ import annotations

from typing import Any

from flask import Response, abort, jsonify

from bot.admin import web
from bot.admin.api import bp, scope
from bot.admin.surveys.views import respondents
from handlers.surveys.results import scoped_results
from handlers.surveys.templates import templates


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
    session = web.db()
    data = scoped_results(session, key, None, respondents(session, scope()))
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
