"""/api/v1/overview: the overview page's counts for the token's scope."""

from __future__ import annotations

from flask import Response, jsonify

from bot.admin import web
from bot.admin.api import bp, scope
from bot.admin.overview import overview_data


@bp.route("/overview")
def overview() -> Response:
    return jsonify(overview_data(web.db(), scope()))
