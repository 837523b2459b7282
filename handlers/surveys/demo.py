"""Demo survey answers, so the dashboard's survey results have something to show (demo only)."""

from __future__ import annotations

import secrets
from datetime import datetime

from sqlalchemy.orm import Session

from models import SurveyResponse, Union, User

# The respondents' unions: three grassroots unions of the demo tree, in turn.
RESPONDENT_UNIONS = ("BZ-BC-001", "BZ-BC-002", "BZ-ZP-001")


def add_demo_responses(session: Session, unions: dict[str, Union], prefix: str, at: datetime) -> int:
    """Twelve complete answers to the default survey, submitted at ``at``; returns how many were
    added (fewer when the tree lacks a union). ``prefix`` starts the demo respondents' openids."""
    responses = 0
    for i in range(12):
        code = RESPONDENT_UNIONS[i % 3]
        if code not in unions:
            continue
        user = User(openid=f"{prefix}resp-{i}", union_id=unions[code].id)
        session.add(user)
        session.flush()
        answers: dict[str, object] = {
            "aware": [],
            "union_service": (5, 4, 4, 3, 5, 2, 4, 5, 3, 4, 4, 5)[i],
            "joined": 1 if i % 3 else 2,
            "channel": 1 + i % 4,
            "comment": ("希望多开展技能培训", "希望职工书屋延长开放时间", None)[i % 3],
        }
        if i % 3:
            answers["activity"] = [1 + i % 5, 1 + (i + 1) % 5] if i % 2 else [1 + i % 5]
        session.add(
            SurveyResponse(
                survey_key="brand_recognition",
                user_id=user.id,
                respondent_code="D" + secrets.token_hex(6).upper(),
                status="complete",
                answers=answers,
                plan={"roster": [], "rated": [], "history": []},
                started_at=at,
                updated_at=at,
                submitted_at=at,
            )
        )
        responses += 1
    return responses
