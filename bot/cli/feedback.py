"""Suggestions and surveys: escalation, answer delivery, survey results and exports."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.runtime import Runtime
from handlers.actor import SYSTEM
from handlers.context import JobRequest
from handlers.feedback_reports import suggestion_table
from handlers.suggestions.operations import escalate_overdue
from handlers.suggestions.queries import pending_deliveries
from handlers.surveys.reports import render_results, survey_table
from handlers.surveys.results import survey_results
from handlers.surveys.templates import default_template, templates
from handlers.tables import write_data
from models import utcnow


def _runtime() -> Runtime:
    rt: Runtime = current_app.extensions["ghpp"]
    return rt


def _date(value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError as exc:
        raise click.BadParameter("日期格式应为 YYYY-MM-DD，如 2026-11-01") from exc


@click.group("suggestions", help="建议：逾期上交、补发答复。")
def suggestions_group() -> None:
    pass


@suggestions_group.command("escalate", help="把逾期未受理/未答复的建议上交上级工会（可重复运行）。")
@with_appcontext
def escalate() -> None:
    rt = _runtime()
    with rt.session_factory() as session, session.begin():
        moved = escalate_overdue(session, SYSTEM, utcnow())
        lines = [f"{s.ticket} → {s.union.name}" for s in moved]
    click.echo(f"已上交 {len(moved)} 条逾期建议。")
    for line in lines:
        click.echo(line)


@suggestions_group.command("deliver", help="补发尚未送达、且在 48 小时客服消息窗口内的答复。")
@with_appcontext
def deliver() -> None:
    rt = _runtime()
    with rt.session_factory() as session:
        ids = pending_deliveries(session, utcnow())
    for sid in ids:
        rt.queue.enqueue(JobRequest("suggestion_answer", {"suggestion_id": sid}))
    rt.queue.wait()  # in-process jobs: finish before the command exits
    click.echo(f"已安排补发 {len(ids)} 条答复。")


@click.group("survey", help="问卷：结果统计。")
def survey_group() -> None:
    pass


@survey_group.command("results", help="显示问卷结果：各题人数、百分比、平均分及 95% 置信区间。")
@click.argument("key", required=False)
@click.option("--since", help="只统计该日期（北京时间）及以后提交的答卷，YYYY-MM-DD")
@with_appcontext
def results(key: str | None, since: str | None) -> None:
    key = _survey_key(key)
    with _runtime().session_factory() as session:
        click.echo(render_results(survey_results(session, key, _date(since))))


def _survey_key(key: str | None) -> str:
    if key is None:
        tpl = default_template()
        if tpl is None:
            raise click.ClickException("没有可用的问卷模板。")
        return tpl.key
    if key not in templates():
        raise click.ClickException(f"问卷「{key}」不存在，可用：{'、'.join(templates())}")
    return key


@click.command("export", help="导出建议或问卷答卷（CSV 或 XLSX，不含任何微信身份）。")
@click.argument("what", type=click.Choice(["suggestions", "surveys"]))
@click.option("--format", "fmt", type=click.Choice(["csv", "xlsx"]), default="xlsx", show_default=True)
@click.option("--union", "union_code", help="只导出该工会（含下级）的建议")
@click.option("--since", help="只导出该日期（北京时间）及以后的记录，YYYY-MM-DD")
@click.option("--survey", "survey_key", help="问卷 key（默认：默认问卷）")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@with_appcontext
def export(
    what: str, fmt: str, union_code: str | None, since: str | None, survey_key: str | None, output: Path
) -> None:
    with _runtime().session_factory() as session:
        if what == "suggestions":
            try:
                table = suggestion_table(session, union_code, _date(since))
            except ValueError as exc:
                raise click.ClickException(str(exc)) from exc
        else:
            if union_code:
                raise click.ClickException("问卷导出不按工会筛选（答卷不记录受访者的工会）。")
            table = survey_table(session, _survey_key(survey_key), _date(since))
    write_data(table, fmt, output)
    click.echo(f"已导出 {len(table.rows)} 行到 {output}")


commands = [suggestions_group, survey_group, export]
