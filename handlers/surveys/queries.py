"""What the chat, the page, the dashboard and the reports read about surveys.

Whether a survey is open, a person's response, and which respondents count for a dashboard
scope: responses carry no union of their own, a response counts for a scope when its
respondent is bound to a union in that scope, and respondents bound to no union count only in
the view of a top union (no parent), so a province sees every response, like the CLI.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from enum import StrEnum

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from handlers.clock import SHANGHAI
from handlers.surveys.templates import Template, templates
from models import Brand, SurveyResponse, Union, User
from models.admin import AdminRole
from models.survey_admin import SurveySchedule


def is_open(session: Session, tpl: Template) -> bool:
    """Open for answers: the dashboard's open/close setting, else the template's ``active``."""
    row = session.get(SurveySchedule, tpl.key)
    return tpl.active if row is None else row.open


def open_default_template(session: Session) -> Template | None:
    """The survey "问卷" starts: the default one if open, else the first open one."""
    candidates = [t for t in templates().values() if is_open(session, t)]
    for tpl in candidates:
        if tpl.default:
            return tpl
    return candidates[0] if candidates else None


def response_of(session: Session, key: str, user: User) -> SurveyResponse | None:
    return session.scalar(
        select(SurveyResponse).where(SurveyResponse.survey_key == key, SurveyResponse.user_id == user.id)
    )


def brand_names(session: Session, ids: list[int]) -> dict[int, str]:
    return {b.id: b.name for b in session.scalars(select(Brand).where(Brand.id.in_(ids)))}


@dataclass(frozen=True)
class Respondents:
    """Which respondents count: those bound to one of ``union_ids`` (a select of union ids),
    plus those bound to no union when ``unbound`` (only the top union's view includes them)."""

    union_ids: Select[tuple[int]]
    unbound: bool = False


def completed(
    session: Session, key: str, since: date | None = None, within: Respondents | None = None
) -> list[SurveyResponse]:
    stmt = (
        select(SurveyResponse)
        .where(SurveyResponse.survey_key == key, SurveyResponse.status == "complete")
        .order_by(SurveyResponse.id)
    )
    if within is not None:
        bound = User.union_id.in_(within.union_ids)
        cond = or_(bound, User.union_id.is_(None)) if within.unbound else bound
        stmt = stmt.where(SurveyResponse.user_id.in_(select(User.id).where(cond)))
    rows = list(session.scalars(stmt))
    if since is not None:
        start = datetime.combine(since, time(0), SHANGHAI)
        rows = [r for r in rows if r.submitted_at is not None and r.submitted_at >= start]
    return rows


def is_top_union(session: Session, union_id: int) -> bool:
    """A union with no parent: surveys belong to no union, so only such a union's admins open
    and close them, and only its view counts respondents bound to no union."""
    root = session.get(Union, union_id)
    return root is not None and root.parent_id is None


def respondents_for(
    session: Session, union_ids: Select[tuple[int]], root_id: int, role: AdminRole
) -> Respondents:
    """The respondents a dashboard scope (its unions, its root union, the viewer's role) counts."""
    top = is_top_union(session, root_id) and role is not AdminRole.CADRE
    return Respondents(union_ids, unbound=top)


def response_counts(session: Session, within: Respondents) -> dict[str, dict[str, int]]:
    """Per survey key: complete and in-progress responses of the respondents that count."""
    bound = User.union_id.in_(within.union_ids)
    cond = bound if not within.unbound else (bound | User.union_id.is_(None))
    rows = session.execute(
        select(SurveyResponse.survey_key, SurveyResponse.status, func.count(SurveyResponse.id))
        .join(User, User.id == SurveyResponse.user_id)
        .where(cond)
        .group_by(SurveyResponse.survey_key, SurveyResponse.status)
    ).tuples()
    out: dict[str, dict[str, int]] = {}
    for key, status, n in rows:
        out.setdefault(key, {})[status] = int(n)
    return out


class SurveyState(StrEnum):
    OPEN = "open"
    CLOSED = "closed"


@dataclass(frozen=True)
class SurveyRow:
    """One survey of the dashboard's list."""

    template: Template
    state: SurveyState
    complete: int
    in_progress: int


def survey_rows(session: Session, within: Respondents) -> list[SurveyRow]:
    """Every template, in file order, with its state and the responses that count."""
    counts = response_counts(session, within)
    return [
        SurveyRow(
            tpl,
            SurveyState.OPEN if is_open(session, tpl) else SurveyState.CLOSED,
            counts.get(tpl.key, {}).get("complete", 0),
            counts.get(tpl.key, {}).get("in_progress", 0),
        )
        for tpl in templates().values()
    ]


def participation(session: Session, within: Respondents) -> list[tuple[Template, int]]:
    """Complete responses per survey for the overview: active surveys, and others that have some."""
    counts = response_counts(session, within)
    out = []
    for tpl in templates().values():
        n = counts.get(tpl.key, {}).get("complete", 0)
        if n or tpl.active:
            out.append((tpl, n))
    return out
