"""Activity photos from the command line: ``flask --app bot photos fingerprint``.

Photos stored before migration 0017 have no perceptual fingerprint, so only their exact hash
matches; this command computes it from the stored files, oldest first, and flags the copies.
"""

from __future__ import annotations

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.runtime import Runtime
from handlers.programme.photos import backfill_fingerprints
from handlers.programme.storage import storage_from_options


@click.group("photos", help="活动照片维护。")
def photos_group() -> None:
    pass


@photos_group.command(
    "fingerprint", help="为尚无感知指纹的已保存照片补算指纹，并标记其中的重复照片。可重复运行。"
)
@with_appcontext
def fingerprint_cmd() -> None:
    rt: Runtime = current_app.extensions["ghpp"]
    with rt.session_factory() as session:
        result = backfill_fingerprints(session, storage_from_options(rt.job_options))
        session.commit()
    click.echo(
        f"补算指纹 {result.fingerprinted} 张，其中标记为重复照片 {result.flagged} 张；"
        f"文件缺失或无法读取 {result.unreadable} 张。"
    )


commands = [photos_group]
