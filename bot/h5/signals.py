"""The request's anti-brushing signals (address prefix, browser family, device, time on page),
attached to the event a page just recorded (RECOGNITION.md §4.5 F1, F2, F5, B4)."""

from __future__ import annotations

from datetime import datetime

from flask import request
from sqlalchemy.orm import Session

from bot.h5 import web


def attach_request_signal(session: Session, event_id: int, rendered_at: datetime, now: datetime) -> None:
    try:
        from handlers.recognition import web_signals  # type: ignore[attr-defined]
    except ImportError:  # until the web-signal rules land
        return
    signal = web_signals.web_signal(
        request.remote_addr, request.headers.get("User-Agent"), web.device_id(), rendered_at, now
    )
    web_signals.attach_signal(session, event_id, signal, now)
