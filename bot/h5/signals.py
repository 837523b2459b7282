"""The request's anti-brushing signals (address prefix, browser family, device, time on page),
attached to the event a page just recorded (docs/method/fraud.md §8: F1, F2, F5, B4)."""

from __future__ import annotations

from datetime import datetime

from flask import request
from sqlalchemy.orm import Session

from bot.h5 import web
from handlers.recognition.web_signals import attach_signal, web_signal


def attach_request_signal(session: Session, event_id: int, rendered_at: datetime, now: datetime) -> None:
    signal = web_signal(
        request.remote_addr, request.headers.get("User-Agent"), web.device_id(), rendered_at, now
    )
    attach_signal(session, event_id, signal, now)
