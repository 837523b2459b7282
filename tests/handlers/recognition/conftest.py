from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy.orm import Session

from handlers.context import Reply
from handlers.dispatch import handle
from handlers.inbound import Inbound
from handlers.recognition.campaigns import create_campaign
from models import Brand, User
from models.recognition import Campaign
from tests.factories import make_brand, make_ctx, make_union

T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)


@pytest.fixture
def brands(session: Session) -> list[Brand]:
    city = make_union(session, name="滨州市总工会")
    return [
        make_brand(session, union=make_union(session, parent=city), name=n)
        for n in ("工惠乐学", "幸福驿站", "职工书屋")
    ]


def make_campaign(session: Session, kind: str = "rating", k: int = 2, **kw: Any) -> Campaign:
    return create_campaign(
        session, kw.pop("name", f"测评{kind}"), kind, "all", T0 - timedelta(days=1), max_choices=k, **kw
    )


Say = Callable[..., Reply]


@pytest.fixture
def say(session: Session) -> Callable[[User, str], Reply]:
    counter = iter(range(10_000, 99_999))

    def _say(user: User, text: str, at: datetime = T0, msg_id: str | None = None) -> Reply:
        inbound = Inbound(user.openid, "text", at, msg_id=msg_id or str(next(counter)), content=text)
        return handle(make_ctx(session, user, at), inbound)

    return _say
