"""Database, demo data, menu and inbound-log commands (the job worker is in bot/cli/jobs.py)."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.runtime import Runtime
from config.settings import PROJECT_ROOT
from handlers.clock import SHANGHAI
from handlers.demo import load_demo
from handlers.inbound_log import brand_catalogue_lines, logged_texts
from handlers.router_learning import export_labels
from models.migrate import upgrade
from models.renumbered_revisions import RevisionMismatch


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["ghpp"]
    return rt


@click.group("db", help="数据库迁移。")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="把数据库结构升级到最新版本。")
@with_appcontext
def db_upgrade() -> None:
    try:
        upgrade(runtime().engine)
    except RevisionMismatch as exc:  # an operator's problem to look at, said in one line
        raise click.ClickException(str(exc)) from None
    click.echo("数据库已升级到最新版本。")


@click.command("seed-demo", help="载入演示数据：工会组织树和工作品牌。")
@with_appcontext
def seed_demo() -> None:
    rt = runtime()
    upgrade(rt.engine)
    with rt.session_factory() as session, session.begin():
        counts = load_demo(session)
    click.echo(f"演示数据已载入：{counts['unions']} 个工会，{counts['brands']} 个工作品牌。")


@click.group("menu", help="公众号自定义菜单。")
def menu_group() -> None:
    pass


@menu_group.command("create", help="把 config/menu.json 中的菜单发布到公众号。")
@with_appcontext
def menu_create() -> None:
    menu = json.loads((PROJECT_ROOT / "config" / "menu.json").read_text(encoding="utf-8"))
    resolved, dropped = resolve_menu(menu, runtime().settings.public_base_url)
    if dropped:
        click.echo(f"未配置 PUBLIC_BASE_URL，已略去网页按钮：{'、'.join(dropped)}。")
    runtime().api.create_menu(resolved)
    click.echo("菜单已发布。")


def resolve_menu(menu: dict[str, Any], base_url: str | None) -> tuple[dict[str, Any], list[str]]:
    """``{PUBLIC_BASE_URL}`` in view buttons replaced; without a base URL those buttons are left
    out (WeChat refuses a relative URL), and their names returned."""
    dropped: list[str] = []

    def walk(buttons: list[dict[str, Any]]) -> list[dict[str, Any]]:
        out = []
        for b in buttons:
            b = dict(b)
            if "url" in b and "{PUBLIC_BASE_URL}" in b["url"]:
                if not base_url:
                    dropped.append(b.get("name", ""))
                    continue
                b["url"] = b["url"].replace("{PUBLIC_BASE_URL}", base_url)
            if "sub_button" in b:
                b["sub_button"] = walk(b["sub_button"])
            out.append(b)
        return out

    return {**menu, "button": walk(menu.get("button", []))}, dropped


@click.group("inbound", help="公众号收到的消息记录。")
def inbound_group() -> None:
    pass


@inbound_group.command(
    "export", help="导出文字和语音消息，供评测和改进消息路由（不含 openid，不含匿名建议）。"
)
@click.option("--since", help="起始日期（北京时间，含），YYYY-MM-DD")
@click.option("--until", help="截止日期（北京时间，不含），YYYY-MM-DD")
@click.option("-o", "--output", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def inbound_export(since: str | None, until: str | None, output: Path) -> None:
    """Writes OUTPUT (a draft evaluation file) and OUTPUT.brands.txt (the catalogue it refers to).

    Each line is "intent | | | message" with the intent the router gave at the time: a person
    corrects the labels, then `python -m nlp eval OUTPUT` scores the current router on them.
    """
    with runtime().session_factory() as session:
        rows = logged_texts(session, _shanghai_day(since, "--since"), _shanghai_day(until, "--until"))
        brands = brand_catalogue_lines(session)
    brands_path = output.with_name(output.name + ".brands.txt")
    brands_path.write_text("\n".join(brands) + "\n", encoding="utf-8")
    lines = [
        "# 从消息记录导出的评测草稿：第一列是当时路由给出的意图，请人工核对、补上品牌和参数后再评测。",
        "# 格式：意图 | 品牌 | 参数 | 消息",
        f"@brands {brands_path.name}",
        *(f"{row.intent or 'unknown'} | | | {row.text}" for row in rows),
    ]
    output.write_text("\n".join(lines) + "\n", encoding="utf-8")
    click.echo(f"已导出 {len(rows)} 条消息到 {output}（品牌目录：{brands_path}）。")


@inbound_group.command(
    "labels-export",
    help="导出后台「路由标注」里人工标注的消息，格式同评测文件（意图 | | | 消息），"
    "供 python -m nlp train --extra 使用（不含 openid，不含匿名建议）。",
)
@click.option("--out", "-o", "output", required=True, type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def inbound_labels_export(output: Path) -> None:
    with runtime().session_factory() as session:
        result = export_labels(session)
    output.write_text(result.text, encoding="utf-8")
    note = f"；{result.skipped} 条以 # 或 @ 开头、无法写成一行的消息已跳过" if result.skipped else ""
    click.echo(f"已导出 {result.written} 条标注到 {output}{note}。")
    click.echo(f"重新训练：python -m nlp train --extra {output}；再用 python -m nlp eval 对比留出集的结果。")


def _shanghai_day(value: str | None, option: str) -> datetime | None:
    if not value:
        return None
    try:
        day = date.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"日期格式应为 YYYY-MM-DD，收到 {value!r}", param_hint=option) from exc
    return datetime.combine(day, time.min, tzinfo=SHANGHAI)


commands = [db_group, seed_demo, menu_group, inbound_group]
