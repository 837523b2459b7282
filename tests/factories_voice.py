"""Helpers for suggestion and survey tests: talk to dispatch like the pipeline does."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy.orm import Session

from handlers.context import Context, Reply
from handlers.dispatch import handle
from handlers.inbound import Inbound
from models import User
from tests.factories import make_ctx

_msg = itertools.count(1)


def say(session: Session, user: User, text: str, now: datetime) -> tuple[Reply, Context]:
    """One text message from ``user`` through dispatch; returns the reply and the context."""
    ctx = make_ctx(session, user, now)
    user.last_message_at = now
    inbound = Inbound(openid=user.openid, kind="text", created_at=now, msg_id=str(next(_msg)), content=text)
    reply = handle(ctx, inbound)
    session.flush()
    return reply, ctx
