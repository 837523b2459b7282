"""``flask --app bot voice-demo``: demo suggestions and survey answers (demo mode only)."""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.runtime import Runtime
from handlers.feedback_demo import load_feedback_demo
from models import utcnow


@click.command("voice-demo", help="演示模式下添加演示建议和问卷答卷（可重复运行，只添加一次）。")
@with_appcontext
def feedback_demo() -> None:
    rt: Runtime = current_app.extensions["ghpp"]
    if rt.settings.extra.get("GHPP_SIMULATE_WECHAT") != "1":
        raise click.ClickException("仅在演示模式（GHPP_SIMULATE_WECHAT=1）下可用。")
    with rt.session_factory() as session, session.begin():
        counts = load_feedback_demo(session, utcnow())
    if counts["suggestions"] == 0:
        click.echo("演示建议和答卷已存在，未重复添加。")
    else:
        click.echo(f"已添加演示建议 {counts['suggestions']} 条、问卷答卷 {counts['responses']} 份。")


commands = [feedback_demo]
