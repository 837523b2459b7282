"""Database, demo data, job worker and menu commands."""

from __future__ import annotations

import json

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.runtime import Runtime
from config.settings import PROJECT_ROOT
from handlers.demo import load_demo
from models.migrate import upgrade


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["ghpp"]
    return rt


@click.group("db", help="数据库迁移。")
def db_group() -> None:
    pass


@db_group.command("upgrade", help="把数据库结构升级到最新版本。")
@with_appcontext
def db_upgrade() -> None:
    upgrade(runtime().engine)
    click.echo("数据库已升级到最新版本。")


@click.command("seed-demo", help="载入演示数据：工会组织树和工作品牌。")
@with_appcontext
def seed_demo() -> None:
    rt = runtime()
    upgrade(rt.engine)
    with rt.session_factory() as session, session.begin():
        counts = load_demo(session)
    click.echo(f"演示数据已载入：{counts['unions']} 个工会，{counts['brands']} 个工作品牌。")


@click.command("worker", help="运行后台任务进程（需要设置 REDIS_URL）。")
@with_appcontext
def worker() -> None:
    rt = runtime()
    if not rt.settings.redis_url:
        raise click.ClickException(
            "后台任务进程需要 Redis：请先设置 REDIS_URL。未设置时任务在服务进程内执行。"
        )
    from rq import Worker

    from bot.jobs import QUEUE_NAME, RQQueue

    assert isinstance(rt.queue, RQQueue)
    click.echo(f"后台任务进程已启动，队列：{QUEUE_NAME}")
    Worker([rt.queue.queue], connection=rt.queue.connection).work()


@click.group("menu", help="公众号自定义菜单。")
def menu_group() -> None:
    pass


@menu_group.command("create", help="把 config/menu.json 中的菜单发布到公众号。")
@with_appcontext
def menu_create() -> None:
    menu = json.loads((PROJECT_ROOT / "config" / "menu.json").read_text(encoding="utf-8"))
    runtime().api.create_menu(menu)
    click.echo("菜单已发布。")


commands = [db_group, seed_demo, worker, menu_group]
