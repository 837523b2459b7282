"""Webhook throughput and latency, in-process (Flask test client), on the configured database.

Measures the full path of an encrypted text message (verify, decrypt, dedupe, one
transaction with the audit row, route, reply, encrypt) against a baseline in the same run:
the signed GET handshake, which exercises only Flask and the signature check.

    python bench/webhook_bench.py [N]        # DATABASE_URL / REDIS_URL as for the service
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import create_app
from config.settings import load_settings
from models.migrate import upgrade
from tests.wechat_protocol import WeChatServer, message_xml, new_aes_key, text_fields


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    tmp = Path(tempfile.mkdtemp())
    aes_key = new_aes_key()
    env = {
        "WECHAT_TOKEN": "benchtoken",
        "WECHAT_APPID": "wxbench",
        "WECHAT_SECRET": "s",
        "SECRET_KEY": "bench-secret-key-0000",
        "WECHAT_AES_KEY": aes_key,
        "INSTANCE_DIR": str(tmp),
        "GHPP_SIMULATE_WECHAT": "1",
    }
    for name in ("DATABASE_URL", "REDIS_URL"):
        if os.environ.get(name):
            env[name] = os.environ[name]
    settings = load_settings(env, dotenv_path=tmp / "none.env")
    app = create_app(settings)
    upgrade(app.extensions["ghpp"].engine)
    client = app.test_client()
    wechat = WeChatServer("benchtoken", "wxbench", aes_key)

    base: list[float] = []
    for _ in range(n):
        query = wechat.handshake("x")
        t0 = time.perf_counter()
        client.get(f"/wechat?{query}")
        base.append(time.perf_counter() - t0)

    full: list[float] = []
    run_id = int(time.time())
    requests = [
        wechat.sign(message_xml(text_fields(f"bench-{i % 50}", "帮助", run_id * 100000 + i)))
        for i in range(n)
    ]
    started = time.perf_counter()
    for req in requests:
        t0 = time.perf_counter()
        resp = client.post(f"/wechat?{req.query}", data=req.body, content_type="text/xml")
        full.append(time.perf_counter() - t0)
        assert resp.status_code == 200
    wall = time.perf_counter() - started

    db = settings.database_url.split("://")[0]
    store = "Redis" if settings.redis_url else "进程内存储"
    print(f"数据库 {db}，{store}，每组 {n} 条")
    for label, values in (("基线（GET 握手）   ", base), ("加密文字消息全流程 ", full)):
        p50, p99 = statistics.median(values) * 1000, percentile(values, 0.99) * 1000
        print(f"{label} p50 {p50:.2f} ms  p99 {p99:.2f} ms")
    ratio = statistics.median(full) / statistics.median(base)
    print(f"吞吐 {n / wall:.0f} 条/秒（单线程顺序发送）；全流程 p50 为基线的 {ratio:.1f} 倍")


if __name__ == "__main__":
    main()
