"""The campaign world the load bench runs against, built with the project's own seeding code:
the demo unions and brands (handlers/demo.py), the demo rating and vote campaigns with a month
of answers (handlers/recognition/demo.py), the default survey opened (handlers/surveys/operations.py), and
a crowd of followers who have written before (``User`` rows, spread over the grassroots unions).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from handlers.actor import Actor
from handlers.demo import load_demo
from handlers.recognition.demo import RATING_CAMPAIGN, VOTE_CAMPAIGN, load_recognition_demo
from handlers.surveys.operations import set_open
from handlers.surveys.templates import default_template
from models import Brand, Union, UnionKind, User
from models.migrate import upgrade
from models.recognition import Campaign

FOLLOWER_PREFIX = "bench-f-"


def follower_openid(i: int) -> str:
    return f"{FOLLOWER_PREFIX}{i:05d}"


def seed(engine: Engine, session_factory: sessionmaker[Session], known: int, now: datetime) -> dict[str, Any]:
    """Returns the world the client needs: brand names, candidate count, brand ids for scenes."""
    upgrade(engine)
    with session_factory() as session, session.begin():
        load_demo(session)
        load_recognition_demo(session, now)
        tpl = default_template()
        if tpl is not None:
            set_open(session, tpl, True, now, Actor.system("bench"))
        grassroots = list(session.scalars(select(Union.id).where(Union.kind == UnionKind.GRASSROOTS)))
        existing = set(session.scalars(select(User.openid).where(User.openid.like(f"{FOLLOWER_PREFIX}%"))))
        for i in range(known):
            openid = follower_openid(i)
            if openid in existing:
                continue
            union_id = grassroots[i % len(grassroots)] if grassroots and i % 3 else None
            session.add(
                User(
                    openid=openid,
                    union_id=union_id,
                    union_source="member" if union_id else None,
                    first_seen_at=now - timedelta(days=30 + i % 60),
                    subscribed_at=now - timedelta(days=30 + i % 60),
                    last_message_at=now - timedelta(days=i % 20),
                )
            )
        brands = [(b.id, b.name) for b in session.scalars(select(Brand).order_by(Brand.id))]
        rating = session.scalar(select(Campaign).where(Campaign.name == RATING_CAMPAIGN))
        voting = session.scalar(select(Campaign).where(Campaign.name == VOTE_CAMPAIGN))
        candidates = len(voting.entries) if voting is not None else len(brands)
        return {
            "brands": [name for _, name in brands],
            "brand_ids": [bid for bid, _ in brands],
            "candidates": candidates,
            "campaigns": [c.name for c in (rating, voting) if c is not None],
            "known_followers": known,
        }
