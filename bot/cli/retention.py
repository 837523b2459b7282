"""Retention and the audit log from the command line (``flask --app bot retention|audit …``)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.runtime import Runtime
from handlers.clock import SHANGHAI, show_time
from handlers.retention import purge_expired_nonces, purge_inbound_content, purge_web_signals
from models import utcnow
from models.admin import verify_audit_chain


def _runtime() -> Runtime:
    rt: Runtime = current_app.extensions["ghpp"]
    return rt


@click.group("retention", help="数据保留期限：到期的消息内容和网页提交的风险信号清除。")
def retention_group() -> None:
    pass


@retention_group.command(
    "purge",
    help="清除超过保留期限（config/recognition.yaml 的 retention_months）的消息内容和网页提交的风险信号"
    "（IP 网段、省市、设备摘要等），保留统计、评价和标记。",
)
@click.option("--dry-run", is_flag=True, help="只统计将清除多少条，不做修改")
@with_appcontext
def purge(dry_run: bool) -> None:
    rt = _runtime()
    now = utcnow()
    with rt.session_factory() as session, session.begin():
        result = purge_inbound_content(session, now, dry_run=dry_run)
        signals = purge_web_signals(session, now, dry_run=dry_run)
        nonces = 0 if dry_run else purge_expired_nonces(session, now)
    day = show_time(result.cutoff)
    if dry_run:
        click.echo(
            f"试运行：有 {result.messages} 条早于 {day}（北京时间）的消息内容、"
            f"{signals} 条网页提交的风险信号将被清除；未做任何修改。"
        )
        return
    click.echo(
        f"已清除 {result.messages} 条早于 {day}（北京时间）的消息内容"
        f"（保留消息类型、意图和时间，统计不受影响）；删除网页提交的风险信号 {signals} 条"
        f"（已结束的活动从正式结果起算，评价和标记保留）；删除过期 nonce {nonces} 条。"
    )


@click.group("audit", help="操作日志（只能追加，带哈希链）。")
def audit_group() -> None:
    pass


@audit_group.command("verify", help="核对操作日志的哈希链，指出第一条被修改、删除或插入的位置。")
@click.option("--head", "head", help="上次核对时记下的最新哈希：用来发现末尾条目被删除")
@with_appcontext
def verify(head: str | None) -> None:
    with _runtime().session_factory() as session:
        report = verify_audit_chain(session, anchor=head)
    brk = report.first_break
    if brk is not None:
        when = brk.created_at.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")
        what = "该条内容被修改" if brk.reason == "content" else "该条之前的条目被删除、插入或改动"
        raise click.ClickException(
            f"操作日志哈希链断裂：第一处问题在第 {brk.entry_id} 号条目（{when}，北京时间）：{what}。"
            f"此前 {report.checked} 条完好。"
        )
    if head and not report.anchor_found:
        raise click.ClickException(
            f"没有找到哈希为 {head} 的条目：该条及其后的条目已被删除，或哈希抄错。"
            f"现存 {report.checked} 条链条完好。"
        )
    if report.head_id is None:
        click.echo("操作日志为空。")
        return
    click.echo(f"操作日志完好：共 {report.checked} 条，哈希链无断裂。")
    click.echo(f"最新一条为第 {report.head_id} 号，哈希 {report.head_hash}")
    click.echo("请把这个哈希另行保存（如打印存档）；下次用 --head 核对，可发现末尾条目被删除。")


commands = [retention_group, audit_group]
