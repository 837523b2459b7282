"""For the survey dashboard tests: the test world's union ids and complete responses in a union."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy.orm import Session

from models import SurveyResponse, utcnow
from tests.bot.admin.conftest import World
from tests.factories import make_user

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@dataclass(frozen=True)
class Ids:
    grassroots: int
    sibling: int
    other_county: int


@pytest.fixture
def ids(world: World, db: Session) -> Ids:
    out = Ids(world.grassroots.id, world.sibling.id, world.other_county.id)
    db.rollback()
    return out


def add_responses(db: Session, world: World, n: int, union_id: int, prefix: str) -> None:
    now = utcnow()
    for i in range(n):
        user = make_user(db, openid=f"o-{prefix}-{i}", union_id=union_id)
        answers = {
            "aware": [],
            "union_service": [5, 4, 4, 3, 5, 2][i % 6],
            "joined": 1 if i % 2 == 0 else 2,
            "channel": 1 + i % 3,
            "comment": XSS if i == 0 else ("希望多开展技能培训" if i < 3 else None),
        }
        if i % 2 == 0:
            answers["activity"] = [1, 2] if i == 0 else [2]
        db.add(
            SurveyResponse(
                survey_key="brand_recognition",
                user_id=user.id,
                respondent_code=f"{prefix.upper()}{i:04d}",
                respondent_group="W",
                status="complete",
                answers=answers,
                plan={"roster": [], "rated": [], "history": []},
                started_at=now,
                updated_at=now,
                submitted_at=now,
            )
        )
    db.commit()
