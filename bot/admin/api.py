"""JSON API under /api/v1 for big screens (大屏): the same data and scoping as the pages.

Authenticate with ``Authorization: Bearer <token>`` (``flask --app bot admin token``).
Documented in ``bot/admin/openapi.yaml``, served at /api/v1/openapi.yaml.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from bot.admin import web
from bot.admin.brands import BrandFilters, brand_dict, brands_query
from bot.admin.overview import overview_data
from bot.admin.scoping import Scope
from bot.admin.security import hash_api_token
from bot.admin.unions import union_rows
from models import utcnow
from models.admin import ApiToken

bp = Blueprint("api_v1", __name__, url_prefix="/api/v1")
OPENAPI_FILE = Path(__file__).with_name("openapi.yaml")
MAX_LIMIT = 500

ERROR_MESSAGES = {
    401: "缺少或无效的访问令牌。",
    403: "无权访问。",
    404: "资源不存在或不在您的管辖范围内。",
}


def json_error(exc: HTTPException) -> tuple[Response, int]:
    code = exc.code or 500
    message = ERROR_MESSAGES.get(code) or exc.description or "请求出错。"
    return jsonify({"error": message, "status": code}), code


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return value


@bp.before_request
def _authenticate() -> None:
    if request.endpoint == "api_v1.openapi":
        return
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        abort(401)
    session = web.db()
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == hash_api_token(token.strip())))
    if row is None or row.revoked_at is not None or not row.account.active:
        abort(401)
    row.last_used_at = utcnow()
    session.commit()
    g.api_scope = Scope.of(row.account)


def _scope() -> Scope:
    sc: Scope = g.api_scope
    return sc


@bp.route("/openapi.yaml")
def openapi() -> Response:
    return Response(OPENAPI_FILE.read_text(encoding="utf-8"), mimetype="application/yaml")


@bp.route("/overview")
def overview() -> Response:
    return jsonify(overview_data(web.db(), _scope()))


@bp.route("/unions")
def unions() -> Response:
    rows = union_rows(web.db(), _scope())
    keys = ("id", "code", "name", "kind_value", "kind", "parent_id", "members", "brands")
    items = [{k: r[k] for k in keys} for r in rows]
    for item in items:
        item["kind_label"] = item.pop("kind")
        item["kind"] = item.pop("kind_value")
    return jsonify({"items": items, "total": len(items)})


@bp.route("/brands")
def brands() -> Response:
    session = web.db()
    stmt = brands_query(session, _scope(), BrandFilters.from_args(request.args))
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), MAX_LIMIT)
    offset = max(request.args.get("offset", 0, type=int) or 0, 0)
    total = web.count(stmt)
    items = [_jsonable(brand_dict(b)) for b in session.scalars(stmt.limit(limit).offset(offset))]
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset})


@bp.route("/brands/<int:brand_id>")
def brand(brand_id: int) -> Response:
    return jsonify(_jsonable(brand_dict(_scope().brand(web.db(), brand_id))))
