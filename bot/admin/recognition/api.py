"""/api/v1/campaigns and /api/v1/campaigns/{id}/recognition: the pages' queries and scoping;
the recognition body is the CLI's JSON report (``recognition --format json``) restricted to the
token's subtree."""

from __future__ import annotations

from flask import Response, abort, jsonify

from bot.admin import web
from bot.admin.api import bp, scope
from bot.admin.recognition.access import campaign_or_404, scoped_report
from handlers.recognition import scoped_queries as q
from models import utcnow


@bp.route("/campaigns")
def campaigns() -> Response:
    rows = q.campaign_rows(web.db(), scope(), utcnow())
    items = [
        {
            "id": r.id,
            "name": r.name,
            "kind": r.kind,
            "state": r.state_label,
            "organiser": r.organiser,
            "brands": r.brands,
            "total": r.total,
            "opens_at": r.opens_at.isoformat(),
            "closes_at": r.closes_at.isoformat() if r.closes_at else None,
            "blind": r.blind,
        }
        for r in rows
    ]
    return jsonify({"items": items, "total": len(items)})


@bp.route("/campaigns/<int:campaign_id>/recognition")
def campaign_recognition(campaign_id: int) -> Response:
    sc = scope()
    campaign = campaign_or_404(web.db(), sc, campaign_id)
    if q.results_hidden(web.db(), sc, campaign):
        abort(403, description="本活动结束前不公开结果。")
    return jsonify(scoped_report(web.db(), sc, campaign))
