"""The suggestion pages' tables (inbox, history, deliveries, the dashboard's own actions, the
month's topics, the overview's overdue panel); the CSV/XLSX export is handlers/feedback_reports.py."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import url_for

from handlers.glossary import action_label
from handlers.suggestions.queries import suggestion_dict
from handlers.tables import Column, Table, display
from models import Suggestion
from models.admin import AuditEntry


def _snippet(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[:n] + "…"


def _ticket_column() -> Column:
    return Column("ticket", "单号", link=lambda r: url_for("admin_suggestions.detail", suggestion_id=r["id"]))


def inbox_table(rows: list[Suggestion], now: datetime) -> Table:
    table = Table(
        "职工建议",
        [
            _ticket_column(),
            Column("created_at", "提交时间"),
            Column("category", "分类"),
            Column("union", "受理工会"),
            Column("state_label", "状态"),
            Column("due", "办理时限"),
            Column("snippet", "内容"),
        ],
    )
    for s in rows:
        d = suggestion_dict(s, now)
        due = display(s.due_at) if s.due_at else ""
        d["due"] = f"{due}（已逾期）" if d["overdue"] else due
        d["snippet"] = _snippet(s.content)
        table.add(**d)
    return table


def history_table(rows: list[dict[str, Any]]) -> Table:
    table = Table(
        "办理记录",
        [
            Column("at", "时间"),
            Column("action", "动作"),
            Column("states", "状态"),
            Column("union", "工会"),
            Column("note", "说明"),
        ],
    )
    for row in rows:
        table.add(**row)
    return table


@dataclass
class AnswerDeliveries:
    """One answer (a reopened suggestion has two) and how it reached the worker."""

    answered_at: datetime
    table: Table


def delivery_tables(
    attempts: list[dict[str, Any]], answers: list[tuple[int, datetime]]
) -> list[AnswerDeliveries]:
    """Per answer: every delivery attempt (channel, status, when, WeChat's error in Chinese)."""
    out: list[AnswerDeliveries] = []
    for event_id, at in answers:
        table = Table(
            "答复送达",
            [
                Column("at", "时间"),
                Column("channel_label", "方式"),
                Column("status_label", "状态"),
                Column("finished_at", "结果时间"),
                Column("errcode", "错误码"),
                Column("note", "说明"),
            ],
        )
        for row in attempts:
            if row["answer_event_id"] == event_id:
                table.add(**row)
        out.append(AnswerDeliveries(answered_at=at, table=table))
    return out


def admin_actions_table(entries: Iterable[AuditEntry]) -> Table:
    table = Table(
        "后台操作", [Column("created_at", "时间"), Column("actor", "账号"), Column("action", "操作")]
    )
    for entry in entries:
        table.add(
            created_at=entry.created_at,
            actor=entry.actor,
            action=action_label(entry.action),
        )
    return table


def topic_tables(data: dict[str, list[tuple[str, int]]]) -> tuple[Table, Table]:
    cat_table = Table("分类", [Column("name", "分类"), Column("value", "建议数")])
    for name, value in data["categories"]:
        cat_table.add(name=name, value=value)
    kw_table = Table("关键词", [Column("name", "关键词"), Column("value", "提到的建议数")])
    for name, value in data["keywords"]:
        kw_table.add(name=name, value=value)
    return cat_table, kw_table


def overdue_table(rows: Iterable[Suggestion]) -> Table:
    table = Table(
        "逾期的建议",
        [
            _ticket_column(),
            Column("union", "受理工会"),
            Column("state_label", "状态"),
            Column("due_at", "时限"),
        ],
    )
    for s in rows:
        table.add(id=s.id, ticket=s.ticket, union=s.union.name, state_label=s.state.label, due_at=s.due_at)
    return table
