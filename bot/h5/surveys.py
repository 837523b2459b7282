"""The H5 survey page: one section of the survey per form, on the chat's response
(handlers/surveys/page.py holds the rules; this module only translates HTTP)."""

from __future__ import annotations

from typing import Any

from flask import abort, redirect, request, url_for

from bot.h5 import web
from bot.h5.web import bp, signed_in
from config import voice_texts as T
from handlers.surveys.page import SurveyPage, submit_section, survey_page
from handlers.surveys.templates import Template, templates

# What a redirect may announce (anything else in the query string is ignored).
NOTICES = {"saved": T.SURVEY_PAGE_SAVED}
# A form field per question: "a.<step key>" ("a.joined", "a.q1:12").
FIELD_PREFIX = "a."


def _template_or_404(key: str) -> Template:
    tpl = templates().get(key)
    if tpl is None:
        abort(404)
    return tpl


def _render(view: SurveyPage, *, notice: str | None = None, problems: tuple[str, ...] = ()) -> str:
    return web.page(
        "survey.html",
        view=view,
        notice=notice,
        problems=problems,
        rt=web.render_token(f"survey:{view.template.key}"),
        csrf=web.csrf_token(),
        texts=T,
    )


@bp.get("/surveys/<key>")
@signed_in
def survey(key: str) -> Any:
    tpl = _template_or_404(key)
    session = web.db()
    view = survey_page(session, web.runtime().registry, tpl, web.viewer_user(), web.now())
    session.commit()  # the response (and its roster) exists before the form refers to it
    notice = NOTICES.get(request.args.get("s", ""))
    if notice is None and view.resumed:
        notice = T.SURVEY_PAGE_RESUMED
    return _render(view, notice=notice)


@bp.post("/surveys/<key>")
@signed_in
def survey_submit(key: str) -> Any:
    web.check_csrf()
    tpl = _template_or_404(key)
    web.read_render_token(f"survey:{tpl.key}")
    shown = [k for k in request.form.get("steps", "").split(",") if k]
    answers = {
        name.removeprefix(FIELD_PREFIX): request.form.getlist(name)
        for name in request.form
        if name.startswith(FIELD_PREFIX)
    }
    session = web.db()
    result = submit_section(
        session, web.runtime().registry, tpl, web.viewer_user(), web.now(), shown, answers
    )
    if result.outcome == "complete_already":
        abort(403, description=T.SURVEY_PAGE_DONE_ALREADY)
    if result.outcome == "closed":
        abort(403, description=T.SURVEY_PAGE_CLOSED_POST)
    if result.outcome == "invalid":
        session.rollback()  # nothing of this form is kept
        assert result.page is not None
        return _render(result.page, problems=result.problems), 400
    if result.outcome == "stale":
        session.commit()  # only what showing the current section needs (a fresh start, a roster)
        assert result.page is not None
        return _render(result.page, notice=result.problems[0]), 409
    session.commit()
    target = url_for("h5.survey", key=tpl.key, s="saved" if result.outcome == "saved" else None)
    return redirect(target, 303)
