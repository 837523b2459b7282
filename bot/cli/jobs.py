"""The job worker and the operator's view of jobs: failed ones, re-queueing, the outbox."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click
from flask import current_app
from flask.cli import with_appcontext

from bot.jobs import HIGH, LOW, RQQueue, queue_names
from bot.runtime import Runtime
from bot.store import CONNECT_TIMEOUT_S, redis_client

if TYPE_CHECKING:
    from rq.job import Job

# The worker's own connection blocks in BLPOP; RQ sets its read timeout to the dequeue
# timeout (worker TTL − 15 s) + 10 s, so a hung Redis is noticed within about a minute.
WORKER_TTL_S = 60


def runtime() -> Runtime:
    rt: Runtime = current_app.extensions["ghpp"]
    return rt


def _rq(rt: Runtime) -> RQQueue:
    if not isinstance(rt.transport, RQQueue):
        raise click.ClickException(
            "未设置 REDIS_URL：后台任务在服务进程内执行，没有任务队列和失败任务登记（失败只记在日志中）。"
        )
    return rt.transport


@click.command(
    "worker", help="运行后台任务进程（需要设置 REDIS_URL）：先处理高优先级队列，按退避间隔重试失败的任务。"
)
@click.option("--burst", is_flag=True, help="处理完队列中现有的任务后退出（不等待定时重试）。")
@with_appcontext
def worker(burst: bool) -> None:
    rt = runtime()
    if not rt.settings.redis_url:
        raise click.ClickException(
            "后台任务进程需要 Redis：请先设置 REDIS_URL。未设置时任务在服务进程内执行。"
        )
    from rq import Queue, SimpleWorker

    queue = _rq(rt)
    connection = redis_client(
        rt.settings.redis_url, decode_responses=False, socket_timeout=None, connect_timeout=CONNECT_TIMEOUT_S
    )
    names = queue_names(queue.prefix)
    queues = [Queue(name, connection=connection) for name in names]  # listened to in this order
    # The outbox relay runs beside the worker: jobs written while Redis was down reach the queue.
    relay, stop = rt.queue.start()
    click.echo(f"后台任务进程已启动，队列（按优先级）：{'、'.join(names)}；待发任务转送与定时重试已开启。")
    try:
        # Jobs run in this process, not in a fork per job: forking while the relay thread holds
        # a lock (database pool, driver) can leave the child stuck on it. Our jobs are short I/O
        # (HTTP to WeChat, one transaction); RQ's job timeout still applies (SIGALRM, main thread).
        SimpleWorker(queues, connection=connection, worker_ttl=WORKER_TTL_S).work(
            with_scheduler=True, burst=burst
        )
    finally:
        stop.set()
        relay.join(timeout=5)


@click.group("jobs", help="后台任务：失败的任务、重新排队、待发任务。")
def jobs_group() -> None:
    pass


def _failed_jobs(queue: RQQueue) -> list[Job]:
    from rq.job import Job

    jobs: list[Job] = []
    for q in queue.queues.values():
        ids = q.failed_job_registry.get_job_ids()
        jobs.extend(j for j in Job.fetch_many(ids, connection=queue.connection) if j is not None)
    return jobs


def _reason(job: Job) -> str:
    result = job.latest_result()
    text = (result.exc_string if result is not None else None) or ""
    lines = [line for line in text.strip().splitlines() if line.strip()]
    return lines[-1][:160] if lines else "超过最大重试次数"


@jobs_group.command("failed", help="列出失败（重试用尽或无法重试）的任务。")
@with_appcontext
def jobs_failed() -> None:
    queue = _rq(runtime())
    failed = _failed_jobs(queue)
    if not failed:
        click.echo("没有失败的任务。")
        return
    click.echo(f"失败的任务共 {len(failed)} 个：")
    for job in failed:
        name, kwargs = (*job.args, None, None)[:2]
        when = job.ended_at.strftime("%Y-%m-%d %H:%M:%S UTC") if job.ended_at else "时间未知"
        click.echo(f"- {job.id}  任务 {name}  参数 {kwargs}  失败于 {when}")
        click.echo(f"  原因：{_reason(job)}")
    click.echo("重新排队：flask --app bot jobs requeue 任务ID，或 --all 全部重新排队。")


@jobs_group.command("requeue", help="把失败的任务重新排队（可重试次数恢复为初始值）。")
@click.argument("job_ids", nargs=-1)
@click.option("--all", "requeue_all", is_flag=True, help="全部失败任务重新排队。")
@with_appcontext
def jobs_requeue(job_ids: tuple[str, ...], requeue_all: bool) -> None:
    from rq.exceptions import InvalidJobOperation, NoSuchJobError

    queue = _rq(runtime())
    if requeue_all == bool(job_ids):
        raise click.UsageError("请给出任务 ID，或使用 --all（二者选一）。")
    failed = {job.id: job for job in _failed_jobs(queue)}
    wanted = list(failed) if requeue_all else list(job_ids)
    missing = [job_id for job_id in wanted if job_id not in failed]
    if missing:
        raise click.ClickException(f"没有找到这些失败任务：{'、'.join(missing)}（用 jobs failed 查看）。")
    done = 0
    for job_id in wanted:
        job = failed[job_id]
        if job.retry_intervals:
            job.retries_left = len(job.retry_intervals)
            job.save()
        registry = queue.queues[HIGH if job.origin == queue.queues[HIGH].name else LOW].failed_job_registry
        try:
            registry.requeue(job)
        except (InvalidJobOperation, NoSuchJobError):
            click.echo(f"任务 {job_id} 已不在失败列表中，跳过。")
            continue
        done += 1
    click.echo(f"已重新排队 {done} 个任务。")


@jobs_group.command("status", help="各队列的任务数与尚未送入队列的待发任务数。")
@with_appcontext
def jobs_status() -> None:
    rt = runtime()
    click.echo(f"待发任务（已提交、尚未送入队列）：{rt.queue.pending()} 个")
    if not isinstance(rt.transport, RQQueue):
        click.echo("未设置 REDIS_URL：任务在服务进程内执行。")
        return
    for level, q in rt.transport.queues.items():
        label = "高优先级" if level == HIGH else "低优先级"
        click.echo(
            f"{label}队列 {q.name}：排队 {q.count} 个，等待重试 {q.scheduled_job_registry.count} 个，"
            f"失败 {q.failed_job_registry.count} 个"
        )


@jobs_group.command("relay", help="把尚未送入队列的待发任务立即送入队列（通常由后台任务进程自动完成）。")
@with_appcontext
def jobs_relay() -> None:
    rt = runtime()
    sent = 0
    while batch := rt.queue.relay():
        sent += batch
    rt.queue.wait()
    click.echo(f"已送入队列 {sent} 个待发任务，剩余 {rt.queue.pending()} 个。")


commands = [worker, jobs_group]
