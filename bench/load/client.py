"""The load generator: its own process, asyncio + aiohttp, a fixed number of concurrent senders
for a fixed time (and at most ``--max-requests``), messages signed (and in safe mode encrypted)
as WeChat does, built with tests/wechat_protocol.py (written from WeChat's published algorithm).

Each sender owns a disjoint slice of the followers, so one follower never has two messages in
flight at once (WeChat delivers a user's messages one after another). Prints one JSON object.

    python -m bench.load.client --url http://127.0.0.1:8000/wechat --world world.json …
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import resource
import sys
import time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from bench.load.seed import follower_openid
from tests.wechat_protocol import WeChatServer, event_fields, message_xml, text_fields

# The campaign-night mix (issue 13): kind → weight (percent).
MIX: dict[str, float] = {
    "rating": 35,
    "vote": 35,
    "list": 5,
    "status": 10,
    "suggest": 5,
    "survey": 5,
    "event": 5,
}
BUSY = "系统暂时繁忙"
LATE = "已收到您的消息，正在处理"
SQL_HEADER = "X-Bench-SQL"
TOPICS = ("食堂菜品太少", "夜班没有热水", "职工书屋开放时间太短", "希望增加羽毛球场地", "停车位不够")


@dataclass
class Stats:
    latencies: list[float] = field(default_factory=list)
    by_kind: dict[str, list[float]] = field(default_factory=dict)
    sql: dict[str, list[int]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)
    invalid: dict[str, int] = field(default_factory=dict)
    success: int = 0
    late: int = 0
    followers: set[str] = field(default_factory=set)

    def fail(self, bucket: dict[str, int], reason: str) -> None:
        bucket[reason] = bucket.get(reason, 0) + 1


class Mix:
    """Builds the next message for a follower; remembers who is in the middle of a survey."""

    def __init__(self, world: dict[str, Any], rng: random.Random, account: str, msg_base: int) -> None:
        self.brands: list[str] = world["brands"]
        self.brand_ids: list[int] = world["brand_ids"]
        self.candidates = max(1, int(world["candidates"]))
        self.rng = rng
        self.account = account
        self.msg_id = msg_base
        self.in_survey: set[str] = set()
        self.kinds = list(MIX)
        self.weights = [MIX[k] for k in self.kinds]

    def next(self, openid: str) -> tuple[str, str]:
        kind = self.rng.choices(self.kinds, self.weights)[0]
        return kind, self.build(kind, openid)

    def _text(self, openid: str, content: str) -> str:
        self.msg_id += 1
        return message_xml(text_fields(openid, content, self.msg_id), self.account)

    def build(self, kind: str, openid: str) -> str:
        rng = self.rng
        if kind == "rating":
            return self._text(openid, f"{rng.choice(self.brands)} {rng.randint(1, 5)}分")
        if kind == "vote":
            return self._text(openid, f"投{rng.randint(1, self.candidates)}号")
        if kind == "list":
            return self._text(openid, "候选品牌")
        if kind == "status":
            return self._text(openid, "我的建议" if rng.random() < 0.3 else f"查询 {rng.choice(self.brands)}")
        if kind == "suggest":
            return self._text(openid, f"建议：{rng.choice(TOPICS)}（{rng.randint(1, 10**6)}）")
        if kind == "survey":
            if openid in self.in_survey:
                return self._text(openid, str(rng.randint(1, 3)))
            self.in_survey.add(openid)
            return self._text(openid, "问卷")
        # events: subscribe (first contact for new followers), scan a brand's code, a menu click
        roll = rng.random()
        if roll < 0.4:
            fields = event_fields(openid, "subscribe")
        elif roll < 0.7:
            fields = event_fields(openid, "SCAN", f"brand:{rng.choice(self.brand_ids)}")
        else:
            fields = event_fields(openid, "CLICK", rng.choice(("MENU_LIST", "MENU_HELP", "MENU_VOTE")))
        # Events have no MsgId; WeChat dedupes them on sender + CreateTime, so make it unique.
        self.msg_id += 1
        fields["CreateTime"] = int(time.time()) - rng.randint(0, 60)
        return message_xml(fields, self.account)


def check_reply(wechat: WeChatServer, body: str, openid: str, account: str, stats: Stats) -> bool:
    if body.strip() == "success":
        stats.success += 1
        return True
    try:
        if wechat.aes_key is not None and "<Encrypt>" in body:
            fields = wechat.open_reply(body)
        else:
            fields = {child.tag: (child.text or "") for child in ET.fromstring(body)}
    except (ET.ParseError, AssertionError, ValueError) as exc:
        stats.fail(stats.invalid, f"unparsable:{type(exc).__name__}")
        return False
    if fields.get("ToUserName") != openid:
        stats.fail(stats.invalid, "wrong ToUserName")
        return False
    content = fields.get("Content", "")
    if BUSY in content:
        stats.fail(stats.invalid, "busy")
        return False
    if LATE in content:
        stats.late += 1
    return True


async def sender(
    w: int,
    args: argparse.Namespace,
    http: aiohttp.ClientSession,
    wechat: WeChatServer,
    mix: Mix,
    stats: Stats,
    clock: dict[str, float],
    budget: list[int],
) -> None:
    k = 0
    while True:
        now = time.monotonic()
        if now >= clock["end"] or budget[0] <= 0:
            return
        budget[0] -= 1
        openid = follower_openid((args.offset + w + k * args.concurrency) % args.followers)
        k += 1
        kind, xml = mix.next(openid)
        req = wechat.sign(xml, mode="plain" if args.mode == "plain" else "safe")
        started = time.monotonic()
        measured = started >= clock["measure_from"]
        try:
            async with http.post(
                f"{args.url}?{req.query}", data=req.body, headers={"Content-Type": "text/xml"}
            ) as resp:
                body = await resp.text()
                status, sql = resp.status, resp.headers.get(SQL_HEADER)
        except TimeoutError:
            if measured:
                stats.fail(stats.errors, "timeout")
            continue
        except aiohttp.ClientError as exc:
            if measured:
                stats.fail(stats.errors, type(exc).__name__)
            continue
        elapsed = time.monotonic() - started
        if not measured:
            continue
        stats.followers.add(openid)
        if status != 200:
            stats.fail(stats.errors, f"HTTP {status}")
            continue
        check_reply(wechat, body, openid, args.account, stats)
        stats.latencies.append(elapsed)
        stats.by_kind.setdefault(kind, []).append(elapsed)
        if sql is not None:
            stats.sql.setdefault(kind, []).append(int(sql))


def pct(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summary(values: list[float]) -> dict[str, float]:
    return {
        "n": len(values),
        "p50_ms": round(pct(values, 0.50) * 1000, 1),
        "p90_ms": round(pct(values, 0.90) * 1000, 1),
        "p99_ms": round(pct(values, 0.99) * 1000, 1),
        "max_ms": round(max(values, default=0.0) * 1000, 1),
    }


async def run(args: argparse.Namespace) -> dict[str, Any]:
    world = json.loads(Path(args.world).read_text(encoding="utf-8"))
    wechat = WeChatServer(args.token, args.appid, args.aes_key if args.mode == "safe" else None)
    mix = Mix(world, random.Random(args.seed), args.account, args.msg_base)
    stats = Stats()
    start = time.monotonic()
    clock = {"measure_from": start + args.warmup, "end": start + args.warmup + args.duration}
    budget = [args.max_requests]
    timeout = aiohttp.ClientTimeout(total=args.timeout)
    connector = aiohttp.TCPConnector(limit=args.concurrency, force_close=True)
    cpu0 = resource.getrusage(resource.RUSAGE_SELF)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as http:
        await asyncio.gather(
            *(sender(w, args, http, wechat, mix, stats, clock, budget) for w in range(args.concurrency))
        )
    wall = max(1e-9, min(time.monotonic(), clock["end"] + args.timeout) - clock["measure_from"])
    cpu1 = resource.getrusage(resource.RUSAGE_SELF)
    answered = len(stats.latencies)
    return {
        "requests": answered + sum(stats.errors.values()),
        "answered": answered,
        "seconds": round(wall, 2),
        "throughput": round(answered / wall, 1),
        **summary(stats.latencies),
        "errors": stats.errors,
        "invalid": stats.invalid,
        "invalid_total": sum(stats.invalid.values()),
        "success_replies": stats.success,
        "late_replies": stats.late,
        "by_kind": {k: summary(v) for k, v in sorted(stats.by_kind.items())},
        "sql_per_message": {k: round(sum(v) / len(v), 1) for k, v in sorted(stats.sql.items()) if v},
        "followers": sorted(stats.followers),
        "client_cpu_s": round(cpu1.ru_utime + cpu1.ru_stime - cpu0.ru_utime - cpu0.ru_stime, 2),
    }


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--url", required=True)
    p.add_argument("--world", required=True)
    p.add_argument("--mode", choices=("plain", "safe"), default="plain")
    p.add_argument("--token", required=True)
    p.add_argument("--appid", required=True)
    p.add_argument("--aes-key", default=None)
    p.add_argument("--account", default="gh_bench")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--duration", type=float, default=8.0)
    p.add_argument("--warmup", type=float, default=1.0)
    p.add_argument("--max-requests", type=int, default=20000)
    p.add_argument("--timeout", type=float, default=5.0, help="WeChat gives up after 5 s")
    p.add_argument("--followers", type=int, default=2400)
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--seed", type=int, default=13)
    p.add_argument("--msg-base", type=int, default=0)
    return p.parse_args(argv)


def main() -> None:
    args = parse_args()
    print(json.dumps(asyncio.run(run(args)), ensure_ascii=False))


if __name__ == "__main__":
    main()
