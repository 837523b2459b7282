"""/api/v1/campaigns and /api/v1/campaigns/{id}/recognition: the pages' queries and scoping;
the recognition body is the CLI's JSON report (``recognition --format json``) restricted to the
token's subtree."""

from __future__ import annotations

from flask import Response, abort, jsonify

from bot.admin import web
from bot.admin.api import _scope, bp
from bot.admin.recognition import campaign_or_404, campaign_rows, results_hidden, scoped_report
from models import utcnow


@bp.route("/campaigns")
def campaigns() -> Response:
    rows = campaign_rows(web.db(), _scope(), utcnow())
    items = [
        {
            **r,
            "opens_at": r["opens_at"].isoformat(),
            "closes_at": r["closes_at"].isoformat() if r["closes_at"] else None,
        }
        for r in rows
    ]
    return jsonify({"items": items, "total": len(items)})


@bp.route("/campaigns/<int:campaign_id>/recognition")
def campaign_recognition(campaign_id: int) -> Response:
    sc = _scope()
    campaign = campaign_or_404(web.db(), sc, campaign_id)
    if results_hidden(web.db(), sc, campaign):
        abort(403, description="本活动结束前不公开结果。")
    return jsonify(scoped_report(web.db(), sc, campaign))
