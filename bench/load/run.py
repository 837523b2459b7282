"""`make bench-load`: the service started the production way, driven by a separate load process.

What it starts, all on 127.0.0.1 and all stopped at the end (even on failure):
- a PostgreSQL database of its own (``bench_load`` on the local server, dropped and re-created);
- a redis-server of its own on a spare port (no persistence);
- the WeChat API stub (tests/wechat_stub.py) in this process, for the worker's pushes;
- the service: ``gunicorn -c gunicorn.conf.py 'bot:create_app()'`` (docs/zh/deployment.md: 4 workers,
  preload) with the production
  settings checks on, and ``flask --app bot worker`` (the RQ worker);
- the baseline: ``gunicorn -w 4 'bench.load.baseline:create_app()'`` (wechatpy + Flask, fixed text);
- for the two-node run: two service masters on two ports behind nginx (Debian's package,
  its own nginx.conf in the temp dir, in the foreground as our child).

Runs, interleaved (baseline and service alternate, the order flipped every pair):
1. plain (明文) messages — the service in compat mode, which accepts them as WeChat's 兼容模式 does;
2. encrypted messages — the service in safe mode (安全模式), the baseline decrypting/encrypting too;
3. one node against two nodes behind nginx (plain).

    python -m bench.load.run [--duration 6] [--concurrency 16] [--pairs 2] [--skip-two-nodes]

Statements per message come from ``GHPP_BENCH_SQL_COUNT=1`` (bot/sqlcount.py), set only here.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import unicodedata
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.load.seed import seed  # noqa: E402
from tests.wechat_protocol import WeChatServer, message_xml, new_aes_key, text_fields  # noqa: E402
from tests.wechat_stub import WeChatStub  # noqa: E402

VENV_BIN = Path(sys.executable).parent
RESULTS = ROOT / "bench" / "results"
TOKEN = "benchLoadToken2026x"
APPID = "wxbenchload000001"
ACCOUNT = "gh_benchload"
# docs/zh/deployment.md: `gunicorn -c gunicorn.conf.py 'bot:create_app()'` (4 workers, preload).
DOCUMENTED_WORKERS = 4
CLK_TCK = os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(predicate: Any, timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"等待超时：{what}")


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout_s: float = 20) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


@contextmanager
def child(
    cmd: list[str], env: dict[str, str], log: Path, sig: int = signal.SIGTERM
) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("ab") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield proc
    finally:
        stop(proc, sig)


def _cpu_and_rss(pid: int) -> tuple[float, int]:
    """(CPU seconds, RSS bytes) of one process, from /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0
    cpu = (int(stat[11]) + int(stat[12])) / CLK_TCK
    rss = next((int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmRSS:")), 0)
    return cpu, rss


def workers_of(master: int) -> list[int]:
    try:
        text = Path(f"/proc/{master}/task/{master}/children").read_text()
    except OSError:
        return []
    return [int(p) for p in text.split()]


def cpu_of(pids: list[int]) -> float:
    return sum(_cpu_and_rss(p)[0] for p in pids)


def settle(masters: list[int], timeout_s: float = 90) -> None:
    """Wait until every worker has booted (their CPU goes quiet): one answering worker does not
    mean the others have loaded the router, and their start-up must not count as load."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pids = [p for m in masters for p in workers_of(m)]
        before = cpu_of(pids)
        time.sleep(0.5)
        if cpu_of(pids) - before < 0.05 * max(1, len(pids)):
            return


class Bench:
    def __init__(self, args: argparse.Namespace, tmp: Path) -> None:
        self.args = args
        self.tmp = tmp
        self.aes_key = new_aes_key()
        self.secret_key = secrets.token_urlsafe(48)
        self.world_path = tmp / "world.json"
        self.offset = 0
        self.msg_base = int(time.time()) * 1_000_000
        self.followers_seen: set[str] = set()
        self.followers = -(-args.followers // args.concurrency) * args.concurrency
        self.runs: list[dict[str, Any]] = []

    # --- services -------------------------------------------------------------------------
    def database(self) -> str:
        admin = self.args.pg_admin
        name = self.args.database
        for cmd in (["dropdb", "--if-exists", "--force", name], ["createdb", name]):
            subprocess.run([*cmd, "-h", admin["host"], "-p", admin["port"], "-U", admin["user"]], check=True)
        return f"postgresql+psycopg://{admin['user']}@{admin['host']}:{admin['port']}/{name}"

    def drop_database(self) -> None:
        admin = self.args.pg_admin
        subprocess.run(
            [
                "dropdb",
                "--if-exists",
                "--force",
                self.args.database,
                "-h",
                admin["host"],
                "-p",
                admin["port"],
                "-U",
                admin["user"],
            ],
            check=False,
        )

    def service_env(self, mode: str, database_url: str, redis_url: str, api_base: str) -> dict[str, str]:
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GHPP_", "WECHAT_", "DATABASE_", "REDIS_"))
        }
        env.update(
            WECHAT_TOKEN=TOKEN,
            WECHAT_APPID=APPID,
            WECHAT_SECRET="bench-secret",
            WECHAT_AES_KEY=self.aes_key,
            WECHAT_MODE="safe" if mode == "safe" else "compat",
            WECHAT_API_BASE=api_base,
            SECRET_KEY=self.secret_key,
            DATABASE_URL=database_url,
            REDIS_URL=redis_url,
            INSTANCE_DIR=str(self.tmp / "instance"),
            GHPP_BENCH_SQL_COUNT="1",
            PYTHONPATH=str(ROOT),
            BASELINE_TOKEN=TOKEN,
            BASELINE_APPID=APPID,
            BASELINE_AES_KEY=self.aes_key,
            BASELINE_MODE=mode,
        )
        return env

    def gunicorn(self, app: str, port: int, env: dict[str, str], name: str) -> Any:
        cmd = [str(VENV_BIN / "gunicorn")]
        # The service runs with the documented production settings (preload, pool reset after
        # fork); the baseline is a bare app and gets the same worker count only. gunicorn reads
        # ./gunicorn.conf.py by default, so the baseline is given an empty one of its own.
        if app.startswith("bot:"):
            cmd += ["-c", str(ROOT / "gunicorn.conf.py")]
        else:
            bare = self.tmp / "bare.conf.py"
            bare.write_text("")
            cmd += ["-c", str(bare)]
        cmd += ["-w", str(self.args.workers), "-b", f"127.0.0.1:{port}"]
        cmd += [*self.args.gunicorn_arg, app]
        return child(cmd, env, self.tmp / f"{name}.log")

    def first_answer(self, port: int, mode: str, started: float, what: str) -> float:
        """Seconds from start to the first correct answer to a signed 「帮助」."""
        wechat = WeChatServer(TOKEN, APPID, self.aes_key)
        deadline = started + 120
        n = 0
        while time.monotonic() < deadline:
            n += 1
            req = wechat.sign(
                message_xml(text_fields("bench-probe", "帮助", self.msg_base - n), ACCOUNT),
                mode="safe" if mode == "safe" else "plain",
            )
            try:
                with urllib.request.urlopen(
                    urllib.request.Request(f"http://127.0.0.1:{port}/wechat?{req.query}", data=req.body),
                    timeout=5,
                ) as resp:
                    if resp.status == 200 and resp.read():
                        return time.monotonic() - started
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.05)
        raise SystemExit(f"等待超时：{what} 没有回答（日志在 {self.tmp}）")

    # --- one measured run -----------------------------------------------------------------
    def drive(self, cell: str, target: str, port: int, mode: str, masters: list[int]) -> dict[str, Any]:
        args = self.args
        cmd = [sys.executable, "-m", "bench.load.client", "--url", f"http://127.0.0.1:{port}/wechat"]
        cmd += ["--world", str(self.world_path), "--mode", mode, "--token", TOKEN, "--appid", APPID]
        cmd += ["--aes-key", self.aes_key, "--account", ACCOUNT, "--concurrency", str(args.concurrency)]
        cmd += ["--duration", str(args.duration), "--warmup", str(args.warmup)]
        cmd += ["--max-requests", str(args.max_requests), "--followers", str(self.followers)]
        cmd += ["--offset", str(self.offset), "--msg-base", str(self.msg_base), "--seed", str(len(self.runs))]
        pids = [p for m in masters for p in workers_of(m)]
        cpu0 = cpu_of(pids)
        done = subprocess.run(
            cmd,
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            capture_output=True,
            text=True,
            timeout=args.warmup + args.duration + 60,
        )
        if done.returncode != 0:
            raise SystemExit(f"负载进程失败：{done.stderr[-2000:]}")
        cpu1 = cpu_of(pids)
        result: dict[str, Any] = json.loads(done.stdout)
        self.msg_base += 10_000_000
        if target != "baseline":
            self.offset += result["requests"]
            self.followers_seen.update(result["followers"])
        result.pop("followers")
        answered = max(1, result["answered"])
        result.update(
            cell=cell,
            target=target,
            mode=mode,
            server_cpu_ms_per_msg=round((cpu1 - cpu0) * 1000 / answered, 2),
            worker_rss_mb=round(max((_cpu_and_rss(p)[1] for p in pids), default=0) / 2**20, 1),
        )
        self.runs.append(result)
        print(
            f"  {cell:<8} {target:<10} {result['throughput']:>7.1f} 条/秒  p99 {result['p99_ms']:>7.1f} ms"
            f"  错误 {sum(result['errors'].values())}  无效 {result['invalid_total']}",
            flush=True,
        )
        return result

    def warm(self, port: int, mode: str) -> None:
        """Unmeasured messages first, enough for every worker to meet every kind once (its
        first query, survey or vote fills per-process caches): a cold worker is start-up."""
        args = self.args
        n = args.warm_messages
        cmd = [sys.executable, "-m", "bench.load.client", "--url", f"http://127.0.0.1:{port}/wechat"]
        cmd += ["--world", str(self.world_path), "--mode", mode, "--token", TOKEN, "--appid", APPID]
        cmd += ["--aes-key", self.aes_key, "--account", ACCOUNT, "--concurrency", str(args.concurrency)]
        cmd += ["--duration", "0", "--warmup", "120", "--max-requests", str(n)]
        cmd += [
            "--followers",
            str(self.followers),
            "--offset",
            str(self.offset),
            "--msg-base",
            str(self.msg_base),
        ]
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=200, check=True)
        self.msg_base += 10_000_000
        self.offset += n

    def pairs(
        self, cell: str, mode: str, a: tuple[str, int, list[int]], b: tuple[str, int, list[int]]
    ) -> None:
        for i in range(self.args.pairs):
            order = (a, b) if i % 2 == 0 else (b, a)
            for target, port, masters in order:
                self.drive(cell, target, port, mode, masters)


def nginx_conf(tmp: Path, port: int, upstreams: list[int]) -> Path:
    servers = "".join(f"    server 127.0.0.1:{p};\n" for p in upstreams)
    temp = "".join(
        f"  {k}_temp_path {tmp}/nginx-{k};\n" for k in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = tmp / "nginx.conf"
    conf.write_text(
        "daemon off;\nmaster_process on;\nworker_processes 1;\n"
        f"pid {tmp}/nginx.pid;\nerror_log {tmp}/nginx-error.log warn;\n"
        "events { worker_connections 1024; }\n"
        "http {\n  access_log off;\n" + temp + "  upstream app {\n    least_conn;\n" + servers + "  }\n"
        f"  server {{\n    listen 127.0.0.1:{port};\n    location / {{\n      proxy_pass http://app;\n"
        "      proxy_set_header Host $host;\n"
        "      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n"
        "    }\n  }\n}\n",
        encoding="utf-8",
    )
    return conf


def start_redis(stack: ExitStack, tmp: Path) -> str:
    port = free_port()
    cmd = ["redis-server", "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = stack.enter_context(child([*cmd, "--dir", str(tmp)], dict(os.environ), tmp / "redis.log"))

    def pings() -> bool:
        if proc.poll() is not None:
            raise SystemExit("redis-server 未能启动")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    wait_for(pings, 15, "redis-server")
    return f"redis://127.0.0.1:{port}/0"


def seed_world(bench: Bench, database_url: str, known: int) -> dict[str, Any]:
    """Seeds with the service's own secret-derived keys (identity hashes must match)."""
    from handlers.anonymity import anonymity_key, set_anonymity_key
    from handlers.programme.binding import member_card_salt, set_member_salt
    from models.db import make_engine, make_session_factory

    set_member_salt(member_card_salt(bench.secret_key))
    set_anonymity_key(anonymity_key(bench.secret_key))
    engine = make_engine(database_url)
    try:
        world = seed(engine, make_session_factory(engine), known, datetime.now(UTC))
    finally:
        engine.dispose()
    bench.world_path.write_text(json.dumps(world, ensure_ascii=False), encoding="utf-8")
    return world


def service_cell(bench: Bench, stack_env: dict[str, str], mode: str, startup: dict[str, float]) -> None:
    print(f"== {'明文（兼容模式）' if mode == 'plain' else '加密（安全模式）'}", flush=True)
    sport, bport = free_port(), free_port()
    with ExitStack() as stack:
        started = time.monotonic()
        service = stack.enter_context(bench.gunicorn("bot:create_app()", sport, stack_env, f"service-{mode}"))
        startup[mode] = round(bench.first_answer(sport, mode, started, "服务"), 2)
        baseline = stack.enter_context(
            bench.gunicorn("bench.load.baseline:create_app()", bport, stack_env, f"baseline-{mode}")
        )
        bench.first_answer(bport, mode, time.monotonic(), "基线")
        settle([service.pid, baseline.pid])
        bench.warm(sport, mode)
        bench.warm(bport, mode)
        bench.pairs(mode, mode, ("baseline", bport, [baseline.pid]), ("service", sport, [service.pid]))


def two_node_cell(bench: Bench, env: dict[str, str]) -> None:
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        print("== 两个节点：未找到 nginx（apt-get install -y nginx），跳过", flush=True)
        return
    print("== 一个节点 / 两个节点（nginx）", flush=True)
    a, b, n = free_port(), free_port(), free_port()
    with ExitStack() as stack:
        node_a = stack.enter_context(bench.gunicorn("bot:create_app()", a, env, "node-a"))
        node_b = stack.enter_context(bench.gunicorn("bot:create_app()", b, env, "node-b"))
        bench.first_answer(a, "plain", time.monotonic(), "节点 A")
        bench.first_answer(b, "plain", time.monotonic(), "节点 B")
        conf = nginx_conf(bench.tmp, n, [a, b])
        proxy = stack.enter_context(
            child(
                [nginx, "-p", str(bench.tmp), "-c", str(conf)], env, bench.tmp / "nginx.log", signal.SIGQUIT
            )
        )
        bench.first_answer(n, "plain", time.monotonic(), "nginx")
        masters = [node_a.pid, node_b.pid]
        settle(masters)
        bench.warm(n, "plain")
        bench.pairs("2nodes", "plain", ("one-node", a, [node_a.pid]), ("two-nodes", n, masters))
        del proxy


def aggregate(bench: Bench, startup: dict[str, float], worker_cpu_s: float) -> dict[str, Any]:
    def cell(name: str, target: str) -> list[dict[str, Any]]:
        return [r for r in bench.runs if r["cell"] == name and r["target"] == target]

    def med(rows: list[dict[str, Any]], key: str) -> float:
        return round(statistics.median(r[key] for r in rows), 1) if rows else 0.0

    cells: dict[str, Any] = {}
    for name, pair in (
        ("plain", ("service", "baseline")),
        ("safe", ("service", "baseline")),
        ("2nodes", ("two-nodes", "one-node")),
    ):
        subject, reference = cell(name, pair[0]), cell(name, pair[1])
        if not subject or not reference:
            continue
        ratios = [
            s["throughput"] / max(r["throughput"], 1e-9) for s, r in zip(subject, reference, strict=False)
        ]
        cells[name] = {
            "subject": pair[0],
            "reference": pair[1],
            "throughput": med(subject, "throughput"),
            "reference_throughput": med(reference, "throughput"),
            "ratio": round(statistics.median(ratios), 3),
            "ratio_range": [round(min(ratios), 3), round(max(ratios), 3)],
        }
    service_runs = [r for r in bench.runs if r["target"] in ("service", "one-node", "two-nodes")]
    sql: dict[str, list[float]] = {}
    for r in service_runs:
        for kind, v in r["sql_per_message"].items():
            sql.setdefault(kind, []).append(v)
    return {
        "cells": cells,
        "sql_per_message": {k: round(statistics.median(v), 1) for k, v in sorted(sql.items())},
        "startup_to_first_answer_s": startup,
        "distinct_followers": len(bench.followers_seen),
        "rq_worker_cpu_s": round(worker_cpu_s, 2),
    }


LABELS = {
    "baseline": "基线（wechatpy+Flask）",
    "service": "本服务",
    "one-node": "一个节点（直连）",
    "two-nodes": "两个节点（nginx）",
}
CELLS = {"plain": "明文", "safe": "安全模式", "2nodes": "扩展"}
KINDS = {
    "rating": "打分",
    "vote": "投票",
    "list": "候选名单",
    "status": "查询",
    "suggest": "建议",
    "survey": "问卷",
    "event": "关注/扫码/菜单",
}


def _width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _row(cells: list[str], widths: list[int]) -> str:
    """Cells padded by display width (a Chinese character takes two columns); first two left."""
    out = []
    for i, (cell, width) in enumerate(zip(cells, widths, strict=True)):
        pad = " " * max(0, width - _width(cell))
        out.append(cell + pad if i < 2 else pad + cell)
    return " ".join(out)


def print_table(result: dict[str, Any]) -> None:
    s, cfg = result["summary"], result["config"]
    print()
    print(
        f"压测结果（并发 {cfg['concurrency']}，每轮 {cfg['duration']} 秒，每格 {cfg['pairs']} 轮交替，"
        f"gunicorn -w {cfg['workers']}；共 {s['distinct_followers']} 个不同的粉丝）"
    )
    widths = [8, 22, 10, 7, 7, 7, 7, 5, 5, 9, 8]
    head = ["场景", "对象", "吞吐 条/秒", "p50", "p90", "p99", "最大", "错误", "无效", "CPU ms/条", "RSS MB"]
    print(_row(head, widths))
    for r in result["runs"]:
        cells = [CELLS[r["cell"]], LABELS[r["target"]], f"{r['throughput']:.1f}"]
        cells += [f"{r[k]:.1f}" for k in ("p50_ms", "p90_ms", "p99_ms", "max_ms")]
        cells += [str(sum(r["errors"].values())), str(r["invalid_total"])]
        cells += [f"{r['server_cpu_ms_per_msg']:.2f}", f"{r['worker_rss_mb']:.0f}"]
        print(_row(cells, widths))
    print(
        "（延迟单位 ms；无效 = 回复 XML 无法解析、ToUserName 不对或「系统暂时繁忙」；"
        "CPU、RSS 为 gunicorn 工作进程）"
    )
    for name, c in s["cells"].items():
        what = "两个节点 / 一个节点" if name == "2nodes" else f"{CELLS[name]}：本服务 / 基线"
        print(
            f"{what}：{c['throughput']} / {c['reference_throughput']} 条/秒，比值 {c['ratio']:.1%}"
            f"（各轮 {c['ratio_range'][0]:.1%}–{c['ratio_range'][1]:.1%}）"
        )
    sql = "，".join(f"{KINDS.get(k, k)} {v}" for k, v in s["sql_per_message"].items())
    print(f"每条消息的 SQL 语句数（中位数）：{sql}")
    startup = "，".join(f"{CELLS.get(k, k)} {v} 秒" for k, v in s["startup_to_first_answer_s"].items())
    print(f"启动到第一条回答：{startup}；后台任务进程 CPU 共 {s['rq_worker_cpu_s']} 秒")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="工会品牌通 负载压测（make bench-load）")
    p.add_argument("--duration", type=float, default=6.0, help="每轮测量秒数")
    p.add_argument("--warmup", type=float, default=2.0, help="每轮开始不计入的秒数")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--pairs", type=int, default=2, help="每格交替的轮数（基线、服务各一次为一轮）")
    p.add_argument("--warm-messages", type=int, default=120, help="每次启动后、测量前先发的消息数（不计入）")
    p.add_argument("--max-requests", type=int, default=20000, help="每轮最多发送的消息数")
    p.add_argument("--followers", type=int, default=2400, help="不同的粉丝数（其中 --known 个已关注过）")
    p.add_argument("--known", type=int, default=2000)
    p.add_argument("--workers", type=int, default=DOCUMENTED_WORKERS, help="gunicorn -w")
    p.add_argument("--gunicorn-arg", action="append", default=[], help="追加给 gunicorn 的参数，可多次")
    p.add_argument("--database", default="bench_load")
    p.add_argument("--pg", default="postgres@127.0.0.1:5432", help="创建数据库用的 user@host:port")
    p.add_argument("--modes", default="plain,safe")
    p.add_argument("--skip-two-nodes", action="store_true")
    p.add_argument("--keep-tmp", action="store_true")
    p.add_argument("--out", type=Path, default=None)
    args = p.parse_args(argv)
    user, _, hostport = args.pg.partition("@")
    host, _, port = hostport.partition(":")
    args.pg_admin = {"user": user, "host": host, "port": port or "5432"}
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="bench-load-"))
    (tmp / "instance").mkdir()
    bench = Bench(args, tmp)
    startup: dict[str, float] = {}
    began = time.monotonic()
    stub = WeChatStub().start()
    worker_cpu = 0.0
    try:
        with ExitStack() as stack:
            redis_url = start_redis(stack, tmp)
            database_url = bench.database()
            world = seed_world(bench, database_url, args.known)
            print(
                f"已建库 {args.database}：{len(world['brands'])} 个品牌，{args.known} 个粉丝，"
                f"活动 {'、'.join(world['campaigns'])}",
                flush=True,
            )
            env = bench.service_env("plain", database_url, redis_url, stub.base_url)
            worker = stack.enter_context(
                child([str(VENV_BIN / "flask"), "--app", "bot", "worker"], env, tmp / "worker.log")
            )
            for mode in args.modes.split(","):
                service_cell(
                    bench, bench.service_env(mode, database_url, redis_url, stub.base_url), mode, startup
                )
            if not args.skip_two_nodes:
                two_node_cell(bench, env)
            worker_cpu = _cpu_and_rss(worker.pid)[0]
    finally:
        stub.stop()
        bench.drop_database()
    result = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "config": {k: v for k, v in vars(args).items() if k not in ("out", "pg_admin")}
        | {"followers": bench.followers},
        "machine": {"cpus": os.cpu_count(), "load_average": os.getloadavg()},
        "wall_s": round(time.monotonic() - began, 1),
        "runs": bench.runs,
    }
    result["summary"] = aggregate(bench, startup, worker_cpu)
    out = args.out or RESULTS / f"load-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, ensure_ascii=False, indent=2, default=str), encoding="utf-8")
    print_table(result)
    print(f"结果已写入 {out}（用时 {result['wall_s']} 秒）")
    if not args.keep_tmp:
        shutil.rmtree(tmp, ignore_errors=True)
    else:
        print(f"日志：{tmp}")


if __name__ == "__main__":
    main()
