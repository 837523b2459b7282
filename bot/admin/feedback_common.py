"""Shared by the 职工心声 pages (suggestions, surveys): exports through the CLI's writer, opaque labels."""

from __future__ import annotations

import hashlib
import hmac
import io
from urllib.parse import quote

from flask import Response, current_app

from handlers.clock import local_day
from handlers.tables import Table, write_data
from models import utcnow

MIMETYPES = {
    "csv": "text/csv",  # Werkzeug adds "; charset=utf-8"
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def report_response(table: Table, fmt: str, name: str) -> Response:
    """Download ``table`` written by the same writer as ``flask --app bot export`` (same columns,
    same 代码本 sheet), so a dashboard export and a CLI export of the same rows are identical."""
    buffer = io.BytesIO()
    write_data(table, fmt, buffer)
    stamp = local_day(utcnow())
    response = Response(buffer.getvalue(), mimetype=MIMETYPES[fmt])
    response.headers["Content-Disposition"] = (
        f"attachment; filename=\"export-{stamp}.{fmt}\"; filename*=UTF-8''{quote(f'{name}-{stamp}.{fmt}')}"
    )
    return response


def respondent_label(user_id: int) -> str:
    """An opaque, stable label for a named author: the same worker gets the same label on every
    page, but it cannot be turned back into an openid or user id without the app's secret key."""
    key = str(current_app.secret_key or "").encode()
    digest = hmac.new(key, f"suggestion-author:{user_id}".encode(), hashlib.sha256).hexdigest()
    return "职工-" + digest[:8].upper()
