"""Which RQ worker class: fork per job (``rq.Worker``) or in-process (``rq.SimpleWorker``, what
``flask worker`` runs, bot/cli/jobs.py), on the same job mix, interleaved.

The mix is campaign night's: customer-service pushes (``send_text``, HTTP to the WeChat API
stub, 80%) and fraud scans of the open rating campaign (``recognition_scan``, 20%). Each round
enqueues the jobs through the service's own transport (RQQueue), then starts a worker process
built like ``flask worker`` (``create_app()``, the production entry point) that drains the queues
in burst mode and reports its wall time and CPU (its own and its forked work horses').

    python -m bench.load.rq_workers [--jobs 300] [--pairs 2]
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bench.load.run import RESULTS, Bench, seed_world, start_redis  # noqa: E402
from bench.load.run import parse_args as bench_args  # noqa: E402
from tests.wechat_stub import WeChatStub  # noqa: E402

CLASSES = {"simple": "SimpleWorker（进程内执行）", "fork": "Worker（每个任务 fork 一次）"}


def serve(worker_class: str) -> None:
    """In the worker process: build the app as production does, drain the queues, report."""
    from rq import Queue, SimpleWorker, Worker

    from bot import create_app
    from bot.jobs import queue_names
    from bot.store import CONNECT_TIMEOUT_S, redis_client

    app = create_app()
    rt = app.extensions["ghpp"]
    connection = redis_client(
        rt.settings.redis_url, decode_responses=False, socket_timeout=None, connect_timeout=CONNECT_TIMEOUT_S
    )
    queues = [Queue(name, connection=connection) for name in queue_names(rt.queue_prefix)]
    cls = SimpleWorker if worker_class == "simple" else Worker
    with app.app_context():
        t0 = time.monotonic()
        c0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        cls(queues, connection=connection).work(burst=True, with_scheduler=False, logging_level="WARNING")
        wall = time.monotonic() - t0
        c1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = sum(b.ru_utime + b.ru_stime - a.ru_utime - a.ru_stime for a, b in zip(c0, c1, strict=True))
    failed = sum(q.failed_job_registry.count for q in queues)
    print(json.dumps({"wall_s": wall, "cpu_s": cpu, "failed": failed}))


def enqueue(env: dict[str, str], jobs: int, campaign_ids: list[int], seed: int) -> None:
    from bot.jobs import RQQueue
    from handlers.context import JobRequest

    transport = RQQueue(env["REDIS_URL"], retry_delays_s=())
    rng = random.Random(seed)
    for i in range(jobs):
        if rng.random() < 0.2:
            transport.enqueue(JobRequest("recognition_scan", {"campaign_id": rng.choice(campaign_ids)}))
        else:
            transport.enqueue(
                JobRequest("send_text", {"openid": f"bench-f-{i % 2000:05d}", "text": "您的建议已答复"})
            )


def main() -> None:
    p = argparse.ArgumentParser(description="RQ 任务进程类型对比：fork 每个任务 vs 进程内执行")
    p.add_argument("--jobs", type=int, default=300)
    p.add_argument("--pairs", type=int, default=2)
    p.add_argument("--serve", choices=tuple(CLASSES), help=argparse.SUPPRESS)
    p.add_argument("--database", default="bench_rq")
    args = p.parse_args()
    if args.serve:
        serve(args.serve)
        return
    bench = Bench(bench_args(["--database", args.database]), Path(tempfile.mkdtemp(prefix="bench-rq-")))
    stub = WeChatStub().start()
    rounds: list[dict[str, Any]] = []
    try:
        with ExitStack() as stack:
            redis_url = start_redis(stack, bench.tmp)
            database_url = bench.database()
            seed_world(bench, database_url, 2000)
            env = bench.service_env("plain", database_url, redis_url, stub.base_url)
            env.pop("GHPP_BENCH_SQL_COUNT")
            campaign_ids = _campaign_ids(database_url)
            print(f"== RQ 任务进程：每轮 {args.jobs} 个任务（推送 80%，刷单扫描 20%）", flush=True)
            for i in range(args.pairs):
                for cls in ("simple", "fork") if i % 2 == 0 else ("fork", "simple"):
                    enqueue(env, args.jobs, campaign_ids, seed=i)
                    done = subprocess.run(
                        [sys.executable, "-m", "bench.load.rq_workers", "--serve", cls],
                        cwd=ROOT,
                        env=env,
                        capture_output=True,
                        text=True,
                        timeout=600,
                    )
                    if done.returncode != 0:
                        raise SystemExit(f"任务进程失败：{done.stderr[-2000:]}")
                    r = json.loads(done.stdout.strip().splitlines()[-1])
                    r.update(
                        cls=cls,
                        jobs=args.jobs,
                        jobs_per_s=round(args.jobs / r["wall_s"], 1),
                        cpu_ms_per_job=round(r["cpu_s"] * 1000 / args.jobs, 1),
                    )
                    rounds.append(r)
                    print(
                        f"  {CLASSES[cls]:<24} {r['jobs_per_s']:>7.1f} 个/秒"
                        f"  CPU {r['cpu_ms_per_job']:>6.1f} ms/个  失败 {r['failed']}",
                        flush=True,
                    )
    finally:
        stub.stop()
        bench.drop_database()
        shutil.rmtree(bench.tmp, ignore_errors=True)
    summary = {
        cls: {
            "jobs_per_s": round(statistics.median(r["jobs_per_s"] for r in rounds if r["cls"] == cls), 1),
            "cpu_ms_per_job": round(
                statistics.median(r["cpu_ms_per_job"] for r in rounds if r["cls"] == cls), 1
            ),
        }
        for cls in CLASSES
    }
    ratio = summary["simple"]["jobs_per_s"] / max(summary["fork"]["jobs_per_s"], 1e-9)
    print(
        f"进程内执行 / fork：吞吐 {ratio:.1f} 倍；每个任务 CPU {summary['simple']['cpu_ms_per_job']} ms 对 "
        f"{summary['fork']['cpu_ms_per_job']} ms"
    )
    out = RESULTS / f"rq-workers-{datetime.now(UTC):%Y%m%d-%H%M%S}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(
        json.dumps({"rounds": rounds, "summary": summary, "ratio": round(ratio, 2)}, indent=2),
        encoding="utf-8",
    )
    print(f"结果已写入 {out}")


def _campaign_ids(database_url: str) -> list[int]:
    from sqlalchemy import select

    from models.db import make_engine
    from models.recognition import Campaign

    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return list(conn.scalars(select(Campaign.id)))
    finally:
        engine.dispose()


if __name__ == "__main__":
    main()
