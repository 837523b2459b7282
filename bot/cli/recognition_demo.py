"""``flask --app bot recognition-demo``: demo campaigns and answers (demo mode only)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.runtime import Runtime
from handlers.recognition.demo import load_recognition_demo
from models import utcnow


@click.command("recognition-demo", help="演示模式下添加演示测评活动、评价和投票（可重复运行，只添加一次）。")
@with_appcontext
def recognition_demo() -> None:
    rt: Runtime = current_app.extensions["ghpp"]
    if rt.settings.extra.get("GHPP_SIMULATE_WECHAT") != "1":
        raise click.ClickException("仅在演示模式（GHPP_SIMULATE_WECHAT=1）下可用。")
    with rt.session_factory() as session, session.begin():
        counts = load_recognition_demo(session, utcnow())
    if counts["respondents"] == 0:
        click.echo("演示测评活动已存在，未重复添加。")
    else:
        people, ratings, votes = counts["respondents"], counts["ratings"], counts["votes"]
        click.echo(f"已添加演示测评：{people} 位参与者、{ratings} 条评价、{votes} 张投票。")


commands = [recognition_demo]
