"""/api/v1/brands/{id}/timeline and /api/v1/coverage: the brand page's timeline and the coverage
report as JSON, with the token's scoping. Added to the JSON API's blueprint (``bot.admin.api``)."""

from __future__ import annotations

from dataclasses import asdict

from flask import Response, abort, jsonify

from bot.admin import web
from bot.admin.api import bp, scope
from bot.admin.programme.coverage import coverage_report
from bot.admin.programme.timeline import timeline_of
from handlers.programme.queries import timeline_json
from models.admin import AdminRole


@bp.route("/brands/<int:brand_id>/timeline")
def brand_timeline(brand_id: int) -> Response:
    session = web.db()
    return jsonify(timeline_json(timeline_of(session, scope().brand(session, brand_id))))


@bp.route("/coverage")
def coverage() -> Response:
    sc = scope()
    if sc.role is AdminRole.CADRE:
        abort(403)  # supervision covers a subtree; a cadre account sees its own brands only
    return jsonify(asdict(coverage_report(web.db(), sc)))
