"""Campaigns (评选/测评) and the 社会认可度 report."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from bot.cli.core import runtime
from handlers.recognition.campaigns import (
    CampaignError,
    create_campaign,
    find_campaign,
    invite_reviewer,
)
from handlers.recognition.closing import close_campaign
from handlers.recognition.fraud import FraudError, decide_flag, run_rules
from handlers.recognition.report import csv_text, results, table_text
from models import Union, utcnow
from models.recognition import Campaign, RecognitionSnapshot

SHANGHAI = ZoneInfo("Asia/Shanghai")


def _when(value: str | None) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"时间格式应为 ISO，例如 2026-12-01T09:00，现为 {value}") from exc
    # A time without zone is Beijing time, as operators type it.
    return (parsed if parsed.tzinfo else parsed.replace(tzinfo=SHANGHAI)).astimezone(UTC)


@click.group("campaign", help="品牌评选/满意度测评活动。")
def campaign_group() -> None:
    pass


@campaign_group.command("create", help="创建活动。")
@click.option("--name", required=True, help="活动名称")
@click.option("--kind", type=click.Choice(["rating", "vote"]), required=True, help="rating 测评 / vote 评选")
@click.option("--brands", required=True, help='all 或 "品牌A,品牌B"')
@click.option("--opens", default=None, help="开始时间（ISO，默认现在）")
@click.option("--closes", default=None, help="结束时间（ISO）")
@click.option("--max-choices", default=1, type=int, help="评选时每人最多支持几个品牌")
@click.option("--blind", is_flag=True, help="结束前只有组织方管理员可见结果")
@click.option("--union", "union_code", default=None, help="组织方工会代码：只面向其下级（默认全部）")
@with_appcontext
def campaign_create(
    name: str,
    kind: str,
    brands: str,
    opens: str | None,
    closes: str | None,
    max_choices: int,
    blind: bool,
    union_code: str | None,
) -> None:
    with runtime().session_factory() as session, session.begin():
        try:
            union = None
            if union_code:
                union = session.scalar(select(Union).where(Union.code == union_code))
                if union is None:
                    raise CampaignError(f"工会代码 {union_code} 不存在")
            c = create_campaign(
                session,
                name,
                kind,
                brands,
                utcnow(),
                _when(opens),
                _when(closes),
                max_choices,
                blind,
                union=union,
            )
        except CampaignError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"已创建活动「{c.name}」（{c.kind.label}），候选品牌 {len(c.entries)} 个。")


@campaign_group.command("close", help="结束活动并生成不可更改的正式结果快照。")
@click.argument("name")
@with_appcontext
def campaign_close(name: str) -> None:
    with runtime().session_factory() as session, session.begin():
        try:
            c = find_campaign(session, name)
            snap = close_campaign(session, c, utcnow())
        except CampaignError as exc:
            raise click.ClickException(str(exc)) from exc
        click.echo(f"活动「{name}」已结束。正式结果快照 sha256：{snap.sha256}")


@campaign_group.command("list", help="列出全部活动。")
@with_appcontext
def campaign_list() -> None:
    now = utcnow()
    with runtime().session_factory() as session:
        rows = list(session.scalars(select(Campaign).order_by(Campaign.id)))
        if not rows:
            click.echo("还没有活动。")
        for c in rows:
            state = (
                "进行中"
                if c.is_open(now)
                else ("已结束" if c.closed_at or (c.closes_at and c.closes_at <= now) else "未开始")
            )
            closes = c.closes_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M") if c.closes_at else "不限"
            extra = f"，每人最多 {c.max_choices} 个" if c.kind.value == "vote" else ""
            blind = "，结束前不公开结果" if c.blind else ""
            click.echo(
                f"{c.name}｜{c.kind.label}｜{state}｜候选 {len(c.entries)} 个｜截止 {closes}{extra}{blind}"
            )


@campaign_group.command("invite-reviewer", help="为党政评议人（G 组）生成一次性邀请码。")
@click.argument("name")
@click.option("--reviewer", required=True, help="评议人姓名")
@click.option("--unit", required=True, help="评议人所在单位（用于回避）")
@click.option("--recuse-union", default=None, help="需回避的工会代码（评议人单位在工会组织树中时）")
@with_appcontext
def campaign_invite(name: str, reviewer: str, unit: str, recuse_union: str | None) -> None:
    with runtime().session_factory() as session, session.begin():
        try:
            c = find_campaign(session, name)
            code = invite_reviewer(session, c, reviewer, unit, recuse_union)
        except CampaignError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"邀请码：{code}（仅显示一次）。评议人扫描场景值为 review:{code} 的二维码即可绑定。")


@click.group("recognition", help="社会认可度报告与防刷票复核。", invoke_without_command=True)
@click.option("--campaign", "campaign_name", default=None, help="活动名称（默认最近一个）")
@click.option("--format", "fmt", type=click.Choice(["table", "json", "csv"]), default="table")
@click.pass_context
@with_appcontext
def recognition_group(ctx: click.Context, campaign_name: str | None, fmt: str) -> None:
    if ctx.invoked_subcommand is not None:
        return
    with runtime().session_factory() as session, session.begin():
        if campaign_name:
            try:
                c = find_campaign(session, campaign_name)
            except CampaignError as exc:
                raise click.ClickException(str(exc)) from exc
        else:
            c_or_none = session.scalar(
                select(Campaign).order_by(Campaign.opens_at.desc(), Campaign.id.desc())
            )
            if c_or_none is None:
                raise click.ClickException("还没有活动。")
            c = c_or_none
        report = results(session, c)
    if fmt == "json":
        click.echo(json.dumps(report, ensure_ascii=False, indent=2))
    elif fmt == "csv":
        click.echo(csv_text(report), nl=False)
    else:
        click.echo(table_text(report))


@recognition_group.command(
    "scan", help="对活动运行防刷票规则：只扫描上次之后的新事件（规则版本变化或 --full 时整轮重判）。"
)
@click.argument("name")
@click.option("--full", is_flag=True, help="整轮重判并重建扫描状态")
@with_appcontext
def recognition_scan(name: str, full: bool) -> None:
    with runtime().session_factory() as session, session.begin():
        try:
            c = find_campaign(session, name)
        except CampaignError as exc:
            raise click.ClickException(str(exc)) from exc
        if session.scalar(select(RecognitionSnapshot.id).where(RecognitionSnapshot.campaign_id == c.id)):
            raise click.ClickException("活动已有正式结果快照，不能再改动标记")
        summary = run_rules(session, c, utcnow(), full=full)
    click.echo(
        "防刷票规则已运行：" + ("，".join(f"{k} {v} 条" for k, v in sorted(summary.items())) or "无新标记")
    )


@recognition_group.command("decide", help="复核一条标记：confirm 确认排除 / restore 恢复计入。")
@click.argument("flag_id", type=int)
@click.argument("decision", type=click.Choice(["confirm", "restore"]))
@click.option("--by", "actor", required=True, help="复核人")
@click.option("--reason", required=True, help="理由（必填，记入审计）")
@with_appcontext
def recognition_decide(flag_id: int, decision: str, actor: str, reason: str) -> None:
    with runtime().session_factory() as session, session.begin():
        try:
            flag = decide_flag(session, flag_id, decision, actor, reason, utcnow())
        except FraudError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"已记录：标记 {flag_id} → {flag.status.value}（新版本 #{flag.id}）。")


commands = [campaign_group, recognition_group]
