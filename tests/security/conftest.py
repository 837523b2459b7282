"""Fixtures for the security tests: an app built from adjusted settings or a failing store."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import Engine

from bot.jobs import InlineQueue
from bot.store import Store
from config.settings import Settings
from tests.bot.admin.conftest import db, world  # noqa: F401  (the dashboard's accounts and unions)


@pytest.fixture
def make_app(settings: Settings, clean_db: Engine, store: Store) -> Callable[..., Flask]:
    """``make_app(store=…, **settings_changes)``: the test app with some settings replaced."""

    def build(store_override: Store | None = None, **changes: Any) -> Flask:
        from bot import create_app
        from bot.runtime import Runtime

        holder: dict[str, Runtime] = {}
        queue = InlineQueue(lambda: holder["rt"], synchronous=True, retry_delays_s=(0, 0, 0))
        app = create_app(
            dataclasses.replace(settings, **changes),
            engine=clean_db,
            store=store_override or store,
            queue=queue,
        )
        holder["rt"] = app.extensions["ghpp"]
        app.config["TESTING"] = True
        return app

    return build
