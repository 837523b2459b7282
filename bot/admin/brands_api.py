"""/api/v1/brands and /api/v1/brands/{id}: the brand list's query and scoping, on the API blueprint."""

from __future__ import annotations

from flask import Response, jsonify, request

from bot.admin import web
from bot.admin.api import MAX_LIMIT, bp, jsonable, scope
from bot.admin.brands import BrandFilters, brand_dict, brands_query


@bp.route("/brands")
def brands() -> Response:
    session = web.db()
    stmt = brands_query(session, scope(), BrandFilters.from_args(request.args))
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), MAX_LIMIT)
    offset = max(request.args.get("offset", 0, type=int) or 0, 0)
    total = web.count(stmt)
    items = [jsonable(brand_dict(b)) for b in session.scalars(stmt.limit(limit).offset(offset))]
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset})


@bp.route("/brands/<int:brand_id>")
def brand(brand_id: int) -> Response:
    return jsonify(jsonable(brand_dict(scope().brand(web.db(), brand_id))))
