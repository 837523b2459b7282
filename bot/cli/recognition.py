"""Campaigns (评选/测评) and the 社会认可度 report."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import click
from flask.cli import with_appcontext
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.cli.admin import CLI_ACTOR
from bot.cli.core import runtime
from handlers.actor import Actor
from handlers.clock import SHANGHAI, show_time
from handlers.recognition.adjudication import AdjudicationError, closed_message, decide_flag, locked_open
from handlers.recognition.brand_checks import brand_checks, close_check, escalate_ring
from handlers.recognition.campaigns import (
    CampaignError,
    campaign_cohort_label,
    create_campaign,
    find_campaign,
)
from handlers.recognition.closing import close_campaign, correct_snapshot
from handlers.recognition.fraud import FraudError, run_rules
from handlers.recognition.report import results
from handlers.recognition.report_text import csv_text, table_text
from handlers.recognition.reviewer_codes import invite_reviewer
from models import Brand, Union, utcnow
from models.recognition import Campaign


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
@click.option(
    "--cohort-level",
    type=click.Choice(["province", "city", "county", "grassroots"]),
    default=None,
    help="比较组层级：province 省级 / city 市级 / county 县区级 / grassroots 基层（默认按候选品牌确定）",
)
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
    cohort_level: str | None,
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
                cohort_level=cohort_level,
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
            snap = close_campaign(session, c, Actor.admin(CLI_ACTOR), utcnow())
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
            closes = show_time(c.closes_at) if c.closes_at else "不限"
            extra = f"，每人最多 {c.max_choices} 个" if c.kind.value == "vote" else ""
            blind = "，结束前不公开结果" if c.blind else ""
            cohort = campaign_cohort_label(session, c)
            click.echo(
                f"{c.name}｜{c.kind.label}｜{state}｜候选 {len(c.entries)} 个｜截止 {closes}{extra}{blind}"
                f"｜比较组 {cohort}"
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
        if not locked_open(session, c):
            raise click.ClickException(closed_message(c))
        summary = run_rules(session, c, utcnow(), full=full)
    click.echo(
        "防刷票规则已运行：" + ("，".join(f"{k} {v} 条" for k, v in sorted(summary.items())) or "无新标记")
    )


@recognition_group.command(
    "decide", help="复核一条标记：confirm 确认排除 / restore 恢复计入（需两位复核人一致）。"
)
@click.argument("flag_id", type=int)
@click.argument("decision", type=click.Choice(["confirm", "restore"]))
@click.option("--by", "actor", required=True, help="复核人")
@click.option("--reason", required=True, help="理由（必填，记入审计）")
@with_appcontext
def recognition_decide(flag_id: int, decision: str, actor: str, reason: str) -> None:
    with runtime().session_factory() as session, session.begin():
        try:
            d = decide_flag(session, flag_id, decision, Actor.admin(actor), reason, utcnow())
        except FraudError as exc:
            raise click.ClickException(str(exc)) from exc
        assert d.flag is not None
        if d.effective:
            who = "、".join(d.agreed)
            msg = f"已生效：标记 {flag_id} → {d.flag.status.value}（新版本 #{d.flag.id}，复核人 {who}）。"
        else:
            msg = f"已记录 {actor} 的复核意见（{decision}），需另一位复核人作出相同结论后才生效。"
    click.echo(msg)


def _campaign(session: Session, name: str) -> Campaign:
    try:
        return find_campaign(session, name)
    except CampaignError as exc:
        raise click.ClickException(str(exc)) from exc


def _brand_id(session: Session, name: str) -> int:
    brand_id = session.scalar(select(Brand.id).where(Brand.name == name))
    if brand_id is None:
        raise click.ClickException(f"找不到品牌「{name}」")
    return brand_id


@recognition_group.command("checks", help="列出活动中未结束的品牌核查及其期限。")
@click.argument("name")
@with_appcontext
def recognition_checks(name: str) -> None:
    now = utcnow()
    with runtime().session_factory() as session:
        c = _campaign(session, name)
        names = dict(session.execute(select(Brand.id, Brand.name)).tuples().all())
        checks = brand_checks(session, c, now)
        if not checks:
            click.echo("没有未结束的品牌核查。")
        for k in checks:
            due = show_time(k.deadline)
            late = "，已逾期" if k.overdue else ""
            click.echo(
                f"{names.get(k.brand_id, k.brand_id)}｜{k.trigger_label}｜{k.reason}｜期限 {due}{late}"
            )


@recognition_group.command("escalate", help="把换票圈（B7 观察）升级为两个品牌的核查。")
@click.argument("name")
@click.argument("brand_a")
@click.argument("brand_b")
@click.option("--by", "actor", required=True, help="复核人")
@click.option("--reason", required=True, help="理由（必填，记入审计）")
@with_appcontext
def recognition_escalate(name: str, brand_a: str, brand_b: str, actor: str, reason: str) -> None:
    with runtime().session_factory() as session, session.begin():
        c = _campaign(session, name)
        pair = (_brand_id(session, brand_a), _brand_id(session, brand_b))
        try:
            escalate_ring(session, c, pair, Actor.admin(actor), reason, utcnow())
        except FraudError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(f"已升级核查：「{brand_a}」「{brand_b}」在核查结束前显示为数据核查中。")


@recognition_group.command("close-check", help="结束一个品牌的人工核查（需两位复核人一致）。")
@click.argument("name")
@click.argument("brand")
@click.option("--by", "actor", required=True, help="复核人")
@click.option("--reason", required=True, help="理由（必填，记入审计）")
@with_appcontext
def recognition_close_check(name: str, brand: str, actor: str, reason: str) -> None:
    with runtime().session_factory() as session, session.begin():
        c = _campaign(session, name)
        try:
            d = close_check(session, c, _brand_id(session, brand), Actor.admin(actor), reason, utcnow())
        except FraudError as exc:
            raise click.ClickException(str(exc)) from exc
    click.echo(
        f"「{brand}」的核查已结束（复核人 {'、'.join(d.agreed)}）。"
        if d.effective
        else f"已记录 {actor} 的意见，需另一位复核人同意后核查才结束。"
    )


@recognition_group.command("correct", help="更正已结束活动的正式结果：生成带理由的新版本，旧版本保留。")
@click.argument("name")
@click.option("--reason", required=True, help="更正理由（必填，随新版本发布）")
@click.option("--by", "actors", multiple=True, required=True, help="复核人（两位，各填一次）")
@click.option("--confirm", "confirms", multiple=True, type=int, help="确认排除的标记编号（可多次）")
@click.option("--restore", "restores", multiple=True, type=int, help="恢复计入的标记编号（可多次）")
@with_appcontext
def recognition_correct(
    name: str, reason: str, actors: tuple[str, ...], confirms: tuple[int, ...], restores: tuple[int, ...]
) -> None:
    decisions = [(f, "confirm") for f in confirms] + [(f, "restore") for f in restores]
    with runtime().session_factory() as session, session.begin():
        c = _campaign(session, name)
        try:
            by = [Actor.admin(a) for a in actors]
            snap = correct_snapshot(session, c, reason, by, decisions, utcnow())
        except AdjudicationError as exc:
            raise click.ClickException(str(exc)) from exc
        msg = (
            f"已生成正式结果第 {snap.version} 版（理由：{snap.reason}），sha256：{snap.sha256}。"
            "此前各版本保留不变。"
        )
    click.echo(msg)


commands = [campaign_group, recognition_group]
