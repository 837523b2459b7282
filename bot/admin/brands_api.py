"""/api/v1/brands and /api/v1/brands/{id}: the brand list's query and scoping, on the API blueprint."""

from __future__ import annotations

from flask import Response, jsonify, request

from bot.admin import web
from bot.admin.api import bp, jsonable, listing, scope
from bot.admin.brands import BrandFilters, brand_dict, brands_query


@bp.route("/brands")
def brands() -> Response:
    return listing(brands_query(web.db(), scope(), BrandFilters.from_args(request.args)), brand_dict)


@bp.route("/brands/<int:brand_id>")
def brand(brand_id: int) -> Response:
    return jsonify(jsonable(brand_dict(scope().brand(web.db(), brand_id))))
