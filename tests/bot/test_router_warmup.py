"""jieba's dictionary loads when the app is created, not on the first message."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from config.settings import PROJECT_ROOT

SCRIPT = """
from nlp import segment
assert not segment.is_ready()
from bot import create_app
create_app()
assert segment.is_ready(), "jieba not loaded at start-up"
print("ready")
"""


def test_create_app_warms_up_the_router(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    env = {
        **{
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("WECHAT_", "GHPP_", "REDIS_", "DATABASE_"))
        },
        "WECHAT_TOKEN": "testtoken1234567",  # production start-up: secrets must pass its checks
        "WECHAT_APPID": "wx1234567890abcdef",
        "WECHAT_SECRET": "secret",
        "SECRET_KEY": "Qm7vT2pXc9LwR4sZ8nYb3KdF6hJ1gA5e",
        "INSTANCE_DIR": str(instance),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert "ready" in result.stdout
    # the cache file lives in the instance directory, not in the repository
    assert (instance / "cache" / "jieba" / "jieba.cache").is_file()
