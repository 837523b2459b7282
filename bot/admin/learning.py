"""路由标注: the messages the router probably got wrong, one-click labels, and their export in
the router's corpus format (``intent | | | message``) for ``python -m nlp train --extra``.

Who: admins and viewers read the page and download the labels; admins label (a write, in the
audit log). Scope: a message belongs to its sender's bound union, so an account sees the
messages of workers bound to its subtree; messages of senders bound to no union are seen only by
accounts of a top-level union. Never shown: the openid (in any form), redacted rows and anything
else of an anonymous dialogue (see ``handlers.router_learning``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from flask import Blueprint, Flask, Response, abort, render_template, request, url_for
from sqlalchemy import ColumnElement, func, or_, select

from bot.admin import web
from bot.admin.scoping import Scope
from handlers import router_learning as rl
from handlers.clock import local_day
from handlers.understanding import Policy
from models import InboundMessage, Union, User, utcnow
from models.admin import AdminRole
from nlp import INTENTS

bp = Blueprint("admin_learning", __name__, url_prefix="/admin/learning")
PAGE_SIZE = 30
READERS = (AdminRole.ADMIN, AdminRole.VIEWER)


def sender_in_scope(sc: Scope) -> list[ColumnElement[bool]]:
    """Conditions keeping messages whose sender is bound to a union of ``sc`` (or to none, for
    an account of a top-level union)."""
    session = web.db()
    top_level = session.scalar(select(Union.parent_id.is_(None)).where(Union.id == sc.root_id))
    if top_level and sc.role is not AdminRole.CADRE:
        others = session.scalar(
            select(func.count(Union.id)).where(Union.parent_id.is_(None), Union.id != sc.root_id)
        )
        if not others:
            return []  # the one top-level union sees every sender: no filter to evaluate per row
    bound = User.union_id.in_(sc.union_ids())
    senders = select(User.openid).where(or_(bound, User.union_id.is_(None)) if top_level else bound)
    return [InboundMessage.openid.in_(senders)]


@dataclass
class Filters:
    reason: rl.Reason | None = None
    labelled: bool | None = None

    @classmethod
    def from_args(cls, args: Any) -> Filters:
        f = cls()
        try:
            f.reason = rl.Reason(args.get("reason", ""))
        except ValueError:
            f.reason = None
        f.labelled = {"yes": True, "no": False}.get(args.get("labelled", ""))
        return f


def _band(conf: float | None, th: Policy) -> str:
    if conf is None:
        return ""
    if conf < th.ask:
        return "低于反问阈值"
    if conf < th.act:
        return "需反问确认"
    return "可直接执行"


def _back() -> str:
    target = request.form.get("back", "")
    if target.startswith("/admin/learning") and "//" not in target and "\\" not in target:
        return target
    return url_for("admin_learning.index")


@bp.route("/")
@web.roles_required(*READERS)
def index() -> Any:
    session = web.db()
    th = rl.thresholds()
    filters = Filters.from_args(request.args)
    stmt = rl.review_query(th, filters.reason, filters.labelled, sender_in_scope(web.scope()))
    page = web.paginate(stmt, PAGE_SIZE)
    messages = page.rows
    labels = rl.labels_for(session, (m.id for m in messages))
    follow_ups = rl.follow_up_texts(session, messages)
    rows = []
    for m in messages:
        label = labels.get(m.id)
        rows.append(
            {
                "id": m.id,
                "received_at": m.received_at,
                "text": m.content,
                "intent": m.intent,
                "intent_label": rl.routed_label(m.intent),
                "confidence": m.intent_confidence,
                "band": _band(m.intent_confidence, th),
                "reasons": [r.label for r in rl.reasons_of(m, th)],
                "follow_up": follow_ups.get(m.follow_up_id) if m.follow_up_id else None,
                "followed_by": m.followed_by,
                "label": label.intent if label else None,
                "label_text": rl.intent_label(label.intent) if label else None,
                "labelled_by": label.labelled_by if label else None,
                "labelled_at": label.labelled_at if label else None,
            }
        )
    return render_template(
        "admin/learning.html",
        rows=rows,
        filters=filters,
        reasons=list(rl.Reason),
        intents=[(name, rl.intent_label(name)) for name in INTENTS],
        thresholds=th,
        total=page.total,
        page=page.number,
        page_size=page.size,
        can_label=web.scope().can_write,
        back=request.full_path.rstrip("?"),
    )


@bp.route("/<int:message_id>/label", methods=["POST"])
@web.write_required
def label(message_id: int) -> Any:
    session = web.db()
    th = rl.thresholds()
    where = [InboundMessage.id == message_id, *sender_in_scope(web.scope())]
    message = session.scalar(rl.review_query(th, where=where).with_for_update(of=InboundMessage))
    if message is None:
        abort(404)  # redacted, out of scope, or not a message to review
    account = web.current_account()
    return web.perform(
        lambda: rl.label_message(
            session,
            message,
            request.form.get("intent", ""),
            account_id=account.id,
            labelled_by=account.username,
            now=utcnow(),
        ),
        audit=lambda change: web.Audit("inbound.label", "inbound_message", message.id, *change),
        success=lambda change: f"已标注为「{rl.intent_label(change[1]['intent'])}」。",
        redirect_to=_back(),
    )


@bp.route("/labels.txt")
@web.roles_required(*READERS)
def export() -> Response:
    result = rl.export_labels(web.db(), sender_in_scope(web.scope()))
    stamp = local_day(utcnow())
    response = Response(result.text.encode("utf-8"), mimetype="text/plain")  # Werkzeug adds "; charset=utf-8"
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"labels-{stamp}.txt\"; filename*=UTF-8''{quote(f'路由标注-{stamp}.txt')}"
    )
    return response


nav = web.NavItem.of("admin_learning.index", "路由标注", READERS)


def init_admin(app: Flask) -> None:
    """Serve this domain's pages (called once, by ``bot.admin.init_app``)."""
    app.register_blueprint(bp)
