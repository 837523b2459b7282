"""Flask CLI commands (``flask --app bot …``). One module per domain; each exposes ``commands``."""

from __future__ import annotations

from flask import Flask

from bot.cli import (
    admin,
    chat,
    core,
    jobs,
    photos,
    programme,
    recognition,
    recognition_demo,
    retention,
    voice,
    voice_demo,
)


def register_cli(app: Flask) -> None:
    for module in (
        core,
        jobs,
        chat,
        programme,
        photos,
        voice,
        recognition,
        admin,
        retention,
        voice_demo,
        recognition_demo,
    ):
        for command in module.commands:
            app.cli.add_command(command)
