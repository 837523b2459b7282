"""Supervision (督导): the coverage page and its export, and the report the overview panels share."""

from __future__ import annotations

from typing import Any

from flask import g, has_request_context, render_template
from sqlalchemy.orm import Session

from bot.admin import web
from bot.admin.export import export_links, export_response, requested_format
from bot.admin.programme.blueprint import bp
from bot.admin.programme.exports import coverage_table
from bot.admin.scoping import Scope
from handlers.programme import coverage as cov
from models import Union, utcnow
from models.admin import AdminRole


def coverage_report(session: Session, sc: Scope) -> cov.CoverageReport:
    """The coverage operation for the scope's subtree; computed once per request (two panels use it)."""
    key = ("coverage", sc.root_id)
    cache: dict[Any, cov.CoverageReport] | None = (
        g.setdefault("programme_cache", {}) if has_request_context() else None
    )
    if cache is not None and key in cache:
        return cache[key]
    report = cov.coverage(session, utcnow(), session.get(Union, sc.root_id))
    if cache is not None:
        cache[key] = report
    return report


@bp.route("/coverage")
@web.roles_required(AdminRole.ADMIN, AdminRole.VIEWER)
def coverage() -> Any:
    report = coverage_report(web.db(), web.scope())
    fmt = requested_format()
    if fmt:
        return export_response(coverage_table(report), fmt)
    return render_template(
        "admin/programme_coverage.html", report=report, table=coverage_table(report), exports=export_links()
    )
