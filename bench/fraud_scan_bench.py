"""Bench: the incremental fraud scan on a large campaign, on PostgreSQL (issue 13).

Usage (THE DATABASE IS EMPTIED: use a scratch database):
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/scratch \
        python bench/fraud_scan_bench.py --reset [--events 1000000]

Generates a campaign of 500 brands with ``--events`` ratings over 60 days (COPY), builds the
scan state once with a full scan, then adds 1,000 new events (with a 200-event bot burst in
them) and times the incremental scan of those. Target: < 1 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from bench.scratch_campaign import campaign_of_brands, scratch_engine
from handlers.recognition.fraud import run_rules
from models.recognition import Campaign, RecognitionFlag

N_BRANDS = 500
DAYS = 60
T0 = datetime(2026, 6, 1, tzinfo=UTC)
COLS = (
    "event_key, campaign_id, kind, identity_hash, grp, union_path, identity_first_seen_at, channel, "
    "src_brand_id, brand_id, q1, q2, q3, payload, started_at, submitted_at"
)


def copy_rows(engine: Any, rows: Any) -> None:
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY recognition_event ({COLS}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        raw.commit()
    finally:
        raw.close()


def rating(
    rng: random.Random, key: str, cid: int, brand_id: int, at: datetime, q1: int, new: bool = False
) -> tuple[Any, ...]:
    first = at - (timedelta(hours=rng.uniform(0.1, 6)) if new else timedelta(days=rng.randint(30, 400)))
    ident = f"{rng.getrandbits(128):032x}"
    return (key, cid, "rating", ident, "S", None, first, "self", None, brand_id, q1, None, None, "{}", at, at)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reset", action="store_true", help="drop and recreate the public schema first")
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--new", type=int, default=1000)
    args = parser.parse_args()
    engine = scratch_engine(args.reset)
    rng = random.Random(7)
    with Session(engine) as s, s.begin():
        labels = ("扫描基准市总", "扫描基层", "扫描品牌", "扫描基准测评")
        campaign, brands = campaign_of_brands(s, N_BRANDS, "FBENCH", labels, T0)
        cid = campaign.id
        brand_ids = [b.id for b in brands]
    t = time.perf_counter()
    ordered = sorted(T0 + timedelta(seconds=rng.randrange(DAYS * 86400)) for _ in range(args.events))
    copy_rows(
        engine,
        (
            rating(rng, f"fb:{i}", cid, rng.choice(brand_ids), at, rng.choice([3, 4, 4, 5]))
            for i, at in enumerate(ordered)
        ),
    )
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    print(
        f"生成数据：{args.events:,} 条评价（{N_BRANDS} 个品牌，{DAYS} 天），"
        f"用时 {time.perf_counter() - t:.1f} 秒"
    )
    end = T0 + timedelta(days=DAYS)
    with Session(engine) as s, s.begin():
        c = s.get(Campaign, cid)
        assert c is not None
        t = time.perf_counter()
        run_rules(s, c, end, full=True)
        print(f"首次全量扫描（建立窗口状态）：{time.perf_counter() - t:.1f} 秒")
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))
        conn.commit()
    target = brand_ids[7]
    fresh = []
    for i in range(args.new):
        if i < 200:  # a bot burst on one brand: new accounts, top marks, two minutes
            at = end + timedelta(seconds=rng.uniform(0, 120))
            fresh.append(rating(rng, f"fb:new{i}", cid, target, at, 5, new=True))
        else:
            at = end + timedelta(seconds=rng.uniform(0, 600))
            fresh.append(rating(rng, f"fb:new{i}", cid, rng.choice(brand_ids), at, rng.choice([3, 4, 4, 5])))
    copy_rows(engine, sorted(fresh, key=lambda r: r[-1]))
    with Session(engine) as s, s.begin():
        c = s.get(Campaign, cid)
        assert c is not None
        t = time.perf_counter()
        written = run_rules(s, c, end + timedelta(minutes=10))
        elapsed = time.perf_counter() - t
        suspects = s.scalar(
            select(func.count()).select_from(RecognitionFlag).where(RecognitionFlag.status == "suspect")
        )
    print(
        f"增量扫描 {args.new:,} 条新事件（活动共 {args.events + args.new:,} 条）："
        f"{elapsed:.3f} 秒；写入 {written}"
    )
    print(f"待核查标记：{suspects}；目标 < 1 秒：{'达到' if elapsed < 1 else '未达到'}")


if __name__ == "__main__":
    main()
