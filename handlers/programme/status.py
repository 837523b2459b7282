""" "查询 工惠乐学": a brand's stage, last progress and recognition in one short reply (anyone)."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from config import programme_texts as T
from handlers.clock import show_day
from handlers.context import Context, Reply
from handlers.inbound import Inbound
from handlers.programme.brands import find_brand_by_name
from handlers.programme.evidence import round_opened_by, round_reports
from handlers.programme.gates import STAGE_ORDER
from handlers.programme.recognition_hook import RecognitionProvider
from models import Brand, Stage
from models.programme import ProgressReport
from nlp import Intent

SUMMARY_CHARS = 40
_QUERY_WORDS = re.compile(r"^(?:查询|查一下|查看|查|[\s:：,，])+")


def last_report(session: Session, brand: Brand) -> ProgressReport | None:
    stmt = (
        select(ProgressReport)
        .where(ProgressReport.brand_id == brand.id)
        .order_by(ProgressReport.created_at.desc(), ProgressReport.id.desc())
    )
    return session.scalars(stmt).first()


def brand_status_text(session: Session, brand: Brand, recognition: RecognitionProvider) -> str:
    step = STAGE_ORDER.index(brand.stage) + 1
    lines = [
        f"【{brand.name}】{brand.union.name}",
        T.STATUS_STAGE.format(stage=brand.stage.label, step=step, total=len(STAGE_ORDER)),
    ]
    report = last_report(session, brand)
    if report is None:
        lines.append(T.STATUS_NO_PROGRESS)
    else:
        summary = report.text if len(report.text) <= SUMMARY_CHARS else report.text[:SUMMARY_CHARS] + "…"
        lines.append(T.STATUS_PROGRESS.format(date=show_day(report.created_at), summary=summary))
    boundary = round_opened_by(session, brand)
    if (
        boundary is not None
        and boundary.decision is not None
        and brand.stage in (Stage.PLANNED, Stage.CULTIVATING)
        and not round_reports(session, brand)
    ):
        date = show_day(boundary.created_at)
        lines.append(T.STATUS_NEW_ROUND.format(decision=boundary.decision.label, date=date))
    info = recognition(session, brand)
    if info is None:
        lines.append(T.STATUS_RECOGNITION_NONE)
    elif info.summary:
        lines.append(info.summary)
    else:
        text = T.STATUS_RECOGNITION.format(score=info.score)
        if info.rank is not None:
            text += T.STATUS_RANK.format(rank=info.rank, total=info.out_of or "?")
        lines.append(text)
    return "\n".join(lines)


def brand_status_reply(ctx: Context, inbound: Inbound, intent: Intent) -> Reply | None:
    """The reply to "查询 品牌名"; None when the message asks about something else (a ticket)."""
    brand = find_brand_by_name(ctx.session, intent.brand) if intent.brand else None
    if brand is None and intent.ticket:
        return None
    # The stub router may miss the brand: try what follows the command word.
    name = _QUERY_WORDS.sub("", inbound.text).strip()
    if brand is None and name:
        brand = find_brand_by_name(ctx.session, name)
    if brand is None:
        return Reply(T.STATUS_UNKNOWN_BRAND.format(name=name) if name else T.STATUS_USAGE)
    return Reply(brand_status_text(ctx.session, brand, ctx.registry.recognition))
