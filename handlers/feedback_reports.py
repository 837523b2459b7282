"""Exports of 职工心声 (suggestions and survey responses) as tables with a codebook: CSV and XLSX.

One ``Table`` shape and one writer for both, used by the CLI and the dashboard alike, so their
files are identical. Exports hold no openid and no user id: suggestions appear by ticket only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from datetime import date, datetime, time

from sqlalchemy import select
from sqlalchemy.orm import Session

from config.suggestions import default_config as config
from config.voice_texts import RATING_LABELS
from handlers.clock import SHANGHAI, show_time
from handlers.tables import Table
from models import Suggestion, Union
from models.union import subtree_ids
from nlp.keywords import top_keywords

SUGGESTION_COLUMNS = [
    ("ticket", "单号", ""),
    ("created_at", "提交时间（北京时间）", ""),
    ("category", "分类", "薪酬、安全生产、劳动保护、职工福利、培训、文体活动、女职工、困难帮扶、其他"),
    ("brand", "涉及品牌", "空=未涉及品牌"),
    ("union_code", "受理工会代码", ""),
    ("union", "受理工会", ""),
    ("state", "状态", "已提交、已受理、办理中、已答复、已评价、不予受理"),
    ("anonymous", "是否匿名", "1=匿名；0=实名（导出中均不含提交人身份）"),
    ("content", "建议内容", ""),
    ("reason", "不予受理原因", ""),
    ("answer", "答复", ""),
    ("answered_at", "答复时间（北京时间）", ""),
    ("rating", "评价", "满意、基本满意、不满意；空=未评价"),
    ("reopened", "重新办理次数", "不满意重新办理的次数（最多 1 次）"),
    ("escalations", "逾期上交次数", ""),
    ("due_at", "当前办理时限（北京时间）", "空=已答复或已结束"),
]


def suggestion_table(session: Session, union_code: str | None = None, since: date | None = None) -> Table:
    stmt = select(Suggestion).order_by(Suggestion.id)
    if union_code:
        union = session.scalar(select(Union).where(Union.code == union_code))
        if union is None:
            raise ValueError(f"工会代码 {union_code} 不存在")
        stmt = stmt.where(Suggestion.union_id.in_(subtree_ids(session, union)))
    if since is not None:
        stmt = stmt.where(Suggestion.created_at >= datetime.combine(since, time(0), SHANGHAI))
    return suggestions_as_table(session.scalars(stmt))


def suggestions_as_table(suggestions: Iterable[Suggestion]) -> Table:
    """The suggestion export of exactly these suggestions (the CLI's and the dashboard's)."""
    rows = [
        [
            s.ticket,
            show_time(s.created_at),
            s.category,
            s.brand.name if s.brand else None,
            s.union.code,
            s.union.name,
            s.state.label,
            1 if s.anonymous else 0,
            s.content,
            s.reason,
            s.answer,
            show_time(s.answered_at) if s.answered_at else None,
            RATING_LABELS[s.rating] if s.rating else None,
            s.reopen_count,
            s.escalations,
            show_time(s.due_at) if s.due_at else None,
        ]
        for s in suggestions
    ]
    return Table.of(
        "建议",
        [c[0] for c in SUGGESTION_COLUMNS],
        rows,
        [[c[0], c[1], "", c[2]] for c in SUGGESTION_COLUMNS],
    )


def suggestion_topics(suggestions: Iterable[Suggestion], n: int = 15) -> dict[str, list[tuple[str, int]]]:
    """What workers raise: suggestions per category (table order) and the top content keywords."""
    items = list(suggestions)
    counts = Counter(s.category for s in items)
    order = list(config().categories) + sorted(set(counts) - set(config().categories))
    return {
        "categories": [(c, counts[c]) for c in order if counts[c]],
        "keywords": top_keywords([s.content for s in items], n),
    }
