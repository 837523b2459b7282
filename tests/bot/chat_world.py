"""A small world for webhook chat tests: unions, eight brands, open campaigns, a cadre; and a
count of every row a chat message could record, to prove that nothing was recorded."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from handlers.recognition.campaigns import create_campaign
from models import Brand, Role, Suggestion, SurveyResponse, Union, UnionKind, User, utcnow
from models.programme import BindAttempt, MemberCard, Photo, ProgressReport
from models.recognition import RecognitionEvent
from models.union import assign_path

BRANDS = ("工惠乐学", "幸福驿站", "职工书屋", "某品牌", "劳模工作室", "职工之家", "爱心驿站", "技能课堂")
CADRE = "o-cadre-world"


def seed(engine: Engine, *, vote: int | None = 2, rating: bool = True) -> dict[str, int]:
    """Brands 1–8 in the order of BRANDS; a vote campaign (at most ``vote`` choices) and a
    rating campaign, both open since yesterday; a cadre of the union of brands 1 and 2."""
    with Session(engine) as session, session.begin():
        top = Union(code="TOP", name="市总工会", kind=UnionKind.CITY)
        session.add(top)
        session.flush()
        assign_path(session, top)
        unions = []
        for i in range(2):
            u = Union(code=f"G{i}", name=f"基层工会{i}", kind=UnionKind.GRASSROOTS, parent_id=top.id)
            session.add(u)
            session.flush()
            assign_path(session, u)
            unions.append(u)
        ids = {}
        for i, name in enumerate(BRANDS):
            b = Brand(name=name, union=unions[0] if i < 2 else unions[1])
            session.add(b)
            session.flush()
            ids[name] = b.id
        since = utcnow() - timedelta(days=1)
        if vote is not None:
            create_campaign(session, "年度品牌评选", "vote", list(BRANDS), since, max_choices=vote)
        if rating:
            create_campaign(session, "品牌满意度测评", "rating", list(BRANDS), since)
        session.add(User(openid=CADRE, role=Role.CADRE, union_id=unions[0].id))
        return ids


def counts(engine: Engine) -> dict[str, object]:
    """Everything a chat message could have recorded."""
    with Session(engine) as session:
        n: dict[str, object] = {
            name: session.scalar(select(func.count()).select_from(model))
            for name, model in (
                ("recognition_events", RecognitionEvent),
                ("suggestions", Suggestion),
                ("survey_responses", SurveyResponse),
                ("progress_reports", ProgressReport),
                ("bind_attempts", BindAttempt),
                ("photos", Photo),
            )
        }
        n["bound_cards"] = session.scalar(
            select(func.count(MemberCard.id)).where(MemberCard.user_id.is_not(None))
        )
        n["survey_answers"] = sorted(repr(r.answers) for r in session.scalars(select(SurveyResponse)))
        # A first message creates the follower row; only a binding changes a role or a union.
        n["bound_users"] = sorted(
            (u.openid, u.role.value, u.union_id)
            for u in session.scalars(select(User))
            if u.role is not Role.WORKER or u.union_id is not None
        )
        return n


def events(engine: Engine, kind: str | None = None) -> list[tuple[str, str | None, int | None]]:
    """(kind, brand name, q1) of every recognition event, oldest first."""
    with Session(engine) as session:
        q = select(RecognitionEvent).order_by(RecognitionEvent.id)
        if kind is not None:
            q = q.where(RecognitionEvent.kind == kind)
        names = {b.id: b.name for b in session.scalars(select(Brand))}
        return [(e.kind, names.get(e.brand_id or 0), e.q1) for e in session.scalars(q)]
