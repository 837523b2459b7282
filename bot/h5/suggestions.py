"""The H5 "my suggestions" page and the anonymous ticket lookup (handlers/suggestions/page.py
holds the rules; this module only translates HTTP).

The lookup takes the ticket and code in a POST body, never in the address (addresses end up in
access logs), and never touches the signed-in worker's row: only their openid's keyed hash is
used, for the wrong-code limit, exactly as the chat does.
"""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for

from bot.h5 import web
from bot.h5.web import bp, signed_in
from config import voice_texts as T
from handlers.anonymity import ATTEMPT_WINDOW, MAX_WRONG_ATTEMPTS
from handlers.suggestions.page import my_tickets, open_by_code, rate_own
from handlers.suggestions.states import RATINGS

MY_PAGE = "my-suggestions"
LOOKUP_PAGE = "suggestion-lookup"
# A ticket is 15 characters, a code 9: anything much longer is not one.
FIELD_LIMIT = 40
NOTICES = {
    "rated": T.RATED,
    "reopened": T.REOPENED,
    "closed": T.RATE_CLOSED,
}


@bp.get("/me/suggestions")
@signed_in
def my_suggestions() -> Any:
    session = web.db()
    tickets = my_tickets(session, web.viewer_user(), web.now())
    session.commit()  # an answer shown here has been delivered
    return web.page(
        "my_suggestions.html",
        tickets=tickets,
        notice=NOTICES.get(request.args.get("s", "")),
        ratings=[(r, T.RATING_LABELS[r]) for r in RATINGS],
        rt=web.render_token(MY_PAGE),
        csrf=web.csrf_token(),
    )


@bp.post("/me/suggestions/<int:suggestion_id>/rate")
@signed_in
def rate_suggestion(suggestion_id: int) -> Any:
    web.check_csrf()
    web.read_render_token(MY_PAGE)
    session = web.db()
    outcome = rate_own(session, web.viewer_user(), suggestion_id, request.form.get("rating", ""), web.now())
    if outcome == "bad":
        abort(400, description="请选择满意、基本满意或不满意后再提交，未作记录。")
    if outcome == "not_found":
        abort(404)
    session.commit()
    return redirect(url_for("h5.my_suggestions", s=outcome, _anchor=f"s{suggestion_id}"), 303)


def _lookup_page(status: int = 200, **context: Any) -> tuple[str, int]:
    body = web.page(
        "suggestion_lookup.html",
        rt=web.render_token(LOOKUP_PAGE),
        csrf=web.csrf_token(),
        max_wrong=MAX_WRONG_ATTEMPTS,
        **context,
    )
    return body, status


@bp.get("/suggestions/lookup")
@signed_in
def suggestion_lookup() -> Any:
    return _lookup_page()


@bp.post("/suggestions/lookup")
@signed_in
def suggestion_lookup_submit() -> Any:
    web.check_csrf()
    web.read_render_token(LOOKUP_PAGE)
    ticket = request.form.get("ticket", "")[:FIELD_LIMIT]
    code = request.form.get("code", "")[:FIELD_LIMIT]
    session = web.db()
    # The openid only: the worker's row is not read or written, so nothing here is dated by it.
    found = open_by_code(session, web.viewer().openid, ticket, code, web.now())
    session.commit()  # a wrong code's keyed attempt rows
    if found.outcome == "found":
        return _lookup_page(view=found.view)
    if found.outcome == "locked":
        minutes = int(ATTEMPT_WINDOW.total_seconds() // 60)
        return _lookup_page(429, problem=T.CODE_LOCKED.format(minutes=minutes), ticket=ticket)
    problem = {
        "bad_ticket": T.LOOKUP_BAD_TICKET,
        "bad_code": T.LOOKUP_BAD_CODE,
    }.get(found.outcome, T.LOOKUP_WRONG)
    return _lookup_page(400, problem=problem, ticket=ticket)
