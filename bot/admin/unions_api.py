"""/api/v1/unions: the union tree of the token's scope, as the unions page lists it."""

from __future__ import annotations

from flask import Response, jsonify

from bot.admin import web
from bot.admin.api import bp, scope
from bot.admin.unions import union_rows


@bp.route("/unions")
def unions() -> Response:
    rows = union_rows(web.db(), scope())
    keys = ("id", "code", "name", "kind_value", "kind", "parent_id", "members", "brands")
    items = [{k: r[k] for k in keys} for r in rows]
    for item in items:
        item["kind_label"] = item.pop("kind")
        item["kind"] = item.pop("kind_value")
    return jsonify({"items": items, "total": len(items)})
