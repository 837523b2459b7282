"""Composition root: the Flask app factory, WeChat transport, CLI and job entry points.

Only this package imports flask, wechatpy, redis and rq. Nothing imports ``bot``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import Flask

from bot.runtime import Runtime
from config.settings import Settings, SettingsError, check_production_secrets, load_settings


def create_app(settings: Settings | None = None, *, demo: bool = False, **runtime_overrides: Any) -> Flask:
    """Build the app; ``runtime_overrides`` (engine, store, queue, api) are for tests.

    Settings read from the environment pass the production checks (strong secrets, no demo
    mode) unless ``demo`` is set, which only the demo entry point (``bot.devenv:demo_app``,
    used by ``make run``) does: a demo ``.env`` left on a server cannot switch demo mode on.
    """
    if settings is None:
        try:
            settings = load_settings()
            if not demo:
                check_production_secrets(settings)
        except SettingsError as exc:
            raise SystemExit(f"启动失败：{exc}") from None
    app = Flask(__name__, instance_path=str(settings.instance_dir))
    if settings.trusted_proxies:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # X-Forwarded-For/-Proto/-Host from exactly this many proxies; the client's own header is ignored.
        n = settings.trusted_proxies
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n)  # type: ignore[method-assign]
    app.config["SECRET_KEY"] = settings.secret_key
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    try:
        runtime = Runtime(settings, **runtime_overrides).make_current()
    except SettingsError as exc:  # a setting read by the runtime itself (GHPP_TEMPLATE_ANSWER_FIELDS …)
        raise SystemExit(f"启动失败：{exc}") from None
    app.extensions["ghpp"] = runtime

    from bot import admin, h5, subscribe_web, webhook
    from bot.cli import register_cli

    app.register_blueprint(webhook.bp)
    app.register_blueprint(subscribe_web.bp)
    admin.init_app(app)
    h5.init_app(app)
    register_cli(app)
    if settings.extra.get("GHPP_BENCH_SQL_COUNT") == "1":
        from bot import sqlcount

        sqlcount.install(app, runtime.engine)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    return app
