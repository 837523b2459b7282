"""Cadre invitation codes: issue one for a union of the subtree, list (and export) those issued."""

from __future__ import annotations

from typing import Any

from flask import abort, render_template, request
from sqlalchemy import select

from bot.admin import web
from bot.admin.audit_log import record
from bot.admin.export import export_links, export_response, requested_format
from bot.admin.programme.access import admin_actor
from bot.admin.programme.blueprint import bp
from bot.admin.programme.exports import invitation_table
from handlers.programme.binding import BindingError, create_invitation
from models import Role, Union, utcnow
from models.admin import AdminRole


@bp.route("/invitations", methods=["GET", "POST"])
@web.roles_required(AdminRole.ADMIN, AdminRole.VIEWER)
def invitations() -> Any:
    sc = web.scope()
    session = web.db()
    code = None
    error = None
    union = None
    if request.method == "POST":
        if not sc.can_write:
            abort(403)
        union = sc.union(session, request.form.get("union", type=int) or 0)  # 404 outside scope
        try:
            invitation, code = create_invitation(
                session, union.code, utcnow(), Role.CADRE, admin_actor(web.current_account())
            )
        except BindingError as exc:
            session.rollback()
            error = str(exc)
        else:
            after = {"union": union.code, "expires_at": invitation.expires_at.isoformat()}
            record(session, "invitation.create", "invitation", invitation.id, None, after)
            session.commit()
    fmt = requested_format()
    table = invitation_table(session, sc)
    if fmt:
        return export_response(table, fmt)
    unions = list(session.scalars(select(Union).where(sc.union_condition()).order_by(Union.path)))
    return (
        render_template(
            "admin/programme_invitations.html",
            table=table,
            unions=unions,
            code=code,
            code_union=union,
            error=error,
            exports=export_links(),
        ),
        400 if error else 200,
    )
