"""``python -m bot.devenv``: write a ``.env`` for the local demo if there is none.

The values are for the embedded demo only: a random SECRET_KEY and AES key, a demo token.
``demo_app`` is the demo's entry point (``flask --app bot.devenv:demo_app``): the production
entry point ``bot:create_app()`` refuses demo mode and weak secrets.
"""

from __future__ import annotations

import base64
import secrets

from flask import Flask

from config.settings import PROJECT_ROOT


def demo_app() -> Flask:
    """The app for ``make run``: demo mode (GHPP_SIMULATE_WECHAT=1) allowed."""
    from bot import create_app

    return create_app(demo=True)


def main() -> None:
    path = PROJECT_ROOT / ".env"
    if path.exists():
        print(f"已存在 {path}，保留原配置。")
        return
    aes_key = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
    path.write_text(
        "# 本地演示配置（自动生成，勿用于生产）\n"
        "WECHAT_TOKEN=ghppdemo\n"
        "WECHAT_APPID=wxdemo0000000000\n"
        "WECHAT_SECRET=demo-secret\n"
        f"WECHAT_AES_KEY={aes_key}\n"
        f"SECRET_KEY={secrets.token_urlsafe(32)}\n"
        "# 演示模式：微信接口由本地模拟器代替（推送打印在服务日志里）\n"
        "GHPP_SIMULATE_WECHAT=1\n",
        encoding="utf-8",
    )
    print(f"已生成本地演示配置 {path}")


if __name__ == "__main__":
    main()
