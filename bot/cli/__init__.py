"""Flask CLI commands (``flask --app bot …``). One module per domain; each exposes ``commands``."""

from __future__ import annotations

from flask import Flask

from bot.cli import (
    admin,
    chat,
    core,
    feedback,
    feedback_demo,
    jobs,
    photos,
    programme,
    recognition,
    recognition_demo,
    retention,
)


def register_cli(app: Flask) -> None:
    for module in (
        core,
        jobs,
        chat,
        programme,
        photos,
        feedback,
        recognition,
        admin,
        retention,
        feedback_demo,
        recognition_demo,
    ):
        for command in module.commands:
            app.cli.add_command(command)
