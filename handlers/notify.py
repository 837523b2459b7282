"""Pushing messages to a follower outside a passive reply (customer-service messages).

Answers to suggestions choose among more channels: handlers/delivery.py.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from handlers.held_replies import hold_reply
from handlers.registry import JobContext, Routes
from models import User

routes = Routes()

# WeChat accepts customer-service messages for 48 hours after the user last wrote.
SERVICE_WINDOW = timedelta(hours=48)


def within_service_window(user: User, now: datetime) -> bool:
    return user.last_message_at is not None and now - user.last_message_at < SERVICE_WINDOW


@routes.job("send_text")
def send_text(jctx: JobContext, openid: str, text: str) -> None:
    user = jctx.session.scalar(select(User).where(User.openid == openid))
    if user is not None and not user.subscribed:
        return  # unfollowed since: WeChat would refuse, and they asked us to stop
    if not jctx.channels.customer_service:
        # The account cannot push (unverified): the text waits for the follower's next message.
        hold_reply(jctx.session, openid, text, jctx.now)
        return
    jctx.api.send_text(openid, text)
