"""JSON API under /api/v1 for big screens (大屏): the blueprint, token sign-in, scope and JSON helpers.

Authenticate with ``Authorization: Bearer <token>`` (``flask --app bot admin token``).
Documented in ``bot/admin/openapi.yaml``, served at /api/v1/openapi.yaml. Each domain adds its
routes to ``bp`` from its own module (``brands_api``, ``unions_api``, ``overview_api``,
``programme.api``, ``recognition.api``, ``suggestions.api``, ``surveys.api``) with the same
queries and scoping as its pages; this module
imports none of them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from flask import Blueprint, Response, abort, g, jsonify, request
from sqlalchemy import select
from werkzeug.exceptions import HTTPException

from bot.admin import web
from bot.admin.scoping import Scope
from bot.admin.security import hash_api_token
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


@bp.errorhandler(HTTPException)
def json_error(exc: HTTPException) -> tuple[Response, int]:
    code = exc.code or 500
    message = ERROR_MESSAGES.get(code) or exc.description or "请求出错。"
    return jsonify({"error": message, "status": code}), code


def listing(stmt: Any, item: Callable[[Any], dict[str, Any]]) -> Response:
    """A list endpoint's answer: ``?limit=`` (1–MAX_LIMIT, default 100) rows from ``?offset=``,
    with the total."""
    limit = min(max(request.args.get("limit", 100, type=int) or 100, 1), MAX_LIMIT)
    offset = max(request.args.get("offset", 0, type=int) or 0, 0)
    total = web.count(stmt)
    items = [jsonable(item(row)) for row in web.db().scalars(stmt.limit(limit).offset(offset))]
    return jsonify({"items": items, "total": total, "limit": limit, "offset": offset})


def jsonable(value: Any) -> Any:
    """Datetimes as ISO 8601 text, in dicts and lists too."""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [jsonable(v) for v in value]
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


def scope() -> Scope:
    """The token's account's scope (what its queries may read)."""
    sc: Scope = g.api_scope
    return sc


@bp.route("/openapi.yaml")
def openapi() -> Response:
    return Response(OPENAPI_FILE.read_text(encoding="utf-8"), mimetype="application/yaml")
