"""Bench: a 社会认可度 snapshot for 500 brands and 1,000,000 ratings on PostgreSQL.

Usage (THE DATABASE IS EMPTIED: use a scratch database):
    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/scratch \
        python bench/recognition_bench.py --reset

Generates the data with COPY, then times ``compute_report`` (load events and flags, estimate
with and without suspects, priors, tiers, 10,000-draw rank ranges) and the cached live view.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.orm import Session

from bench.scratch_campaign import campaign_of_brands, scratch_engine
from handlers.recognition.report import compute_report, results
from models.recognition import Campaign

N_BRANDS = 500
N_RATINGS = 1_000_000
N_BALLOTS = 20_000
T0 = datetime(2026, 6, 1, tzinfo=UTC)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--reset", action="store_true", help="drop and recreate the public schema first")
    parser.add_argument("--ratings", type=int, default=N_RATINGS)
    parser.add_argument(
        "--suspects", type=int, default=1000, help="flag this many ratings suspect (forces the second pass)"
    )
    args = parser.parse_args()
    engine = scratch_engine(args.reset)
    rng = random.Random(42)
    with Session(engine) as s, s.begin():
        labels = ("基准市总", "基层", "基准品牌", "基准测评")
        campaign, brands = campaign_of_brands(s, N_BRANDS, "BENCH", labels, T0)
        campaign_id = campaign.id
        brand_rows = [(b.id, b.union.path) for b in brands]
    quality = {b: rng.gauss(0, 0.6) for b, _ in brand_rows}
    cols = (
        "event_key, campaign_id, kind, identity_hash, grp, union_path, identity_first_seen_at, channel, "
        "src_brand_id, brand_id, q1, q2, q3, payload, started_at, submitted_at"
    )
    start = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        with cur.copy(f"COPY recognition_event ({cols}) FROM STDIN") as copy:
            for i in range(args.ratings):
                brand_id, path = brand_rows[rng.randrange(N_BRANDS)]
                grp = "W" if rng.random() < 0.6 else "S"
                home = grp == "W" and rng.random() < 0.3
                q1 = min(5, max(1, round(3.8 + quality[brand_id] + rng.gauss(0, 0.9))))
                at = T0 + timedelta(seconds=rng.randrange(60 * 86400))
                copy.write_row(
                    (
                        f"bench:r{i}",
                        campaign_id,
                        "rating",
                        f"{rng.getrandbits(128):032x}",
                        grp,
                        path if home else None,
                        at - timedelta(days=90),
                        "self",
                        None,
                        brand_id,
                        q1,
                        None,
                        None,
                        "{}",
                        at,
                        at,
                    )
                )
            ids = [b for b, _ in brand_rows]
            for i in range(N_BALLOTS):
                shown = rng.sample(ids, 25)
                aware = [b for b in shown if rng.random() < 0.3]
                at = T0 + timedelta(seconds=rng.randrange(60 * 86400))
                payload = json.dumps({"shown": shown, "aware": aware, "foil": False})
                copy.write_row(
                    (
                        f"bench:b{i}",
                        campaign_id,
                        "roster_ballot",
                        f"{rng.getrandbits(128):032x}",
                        "W" if i % 2 else "S",
                        None,
                        at - timedelta(days=90),
                        "neutral_open",
                        None,
                        None,
                        None,
                        None,
                        None,
                        payload,
                        at,
                        at,
                    )
                )
        raw.commit()
    finally:
        raw.close()
    print(
        f"生成数据：{args.ratings:,} 条评价 + {N_BALLOTS:,} 份知晓名单问卷，"
        f"用时 {time.perf_counter() - start:.1f} 秒"
    )
    with engine.begin() as conn:
        # Suspect flags on random ratings: the report then also computes the with-suspects pass.
        conn.execute(
            text(
                "INSERT INTO recognition_flag (event_id, rule_id, rule_version, version_no, status, params,"
                " decided_by, reason, created_at) SELECT id, 'B2_timing', 'B2_timing@1.0.0', 1, 'suspect',"
                " '{}', 'system', 'bench', now() FROM recognition_event WHERE kind = 'rating'"
                " ORDER BY md5(id::text) LIMIT :n"
            ),
            {"n": args.suspects},
        )
    with engine.connect() as conn:
        conn.execute(text("ANALYZE"))  # what autovacuum would have done by then
        conn.commit()
    with Session(engine) as s:
        c = s.get(Campaign, campaign_id)
        assert c is not None
        t = time.perf_counter()
        report = compute_report(s, c)
        elapsed = time.perf_counter() - t
        print(f"快照计算（{N_BRANDS} 个品牌，含/不含待核查两遍，名次区间 10,000 次抽样）：{elapsed:.2f} 秒")
        t = time.perf_counter()
        results(s, c)
        first = time.perf_counter() - t
        t = time.perf_counter()
        results(s, c)
        cached = time.perf_counter() - t
        print(f"实时视图：首次 {first:.2f} 秒，命中缓存 {cached * 1000:.1f} 毫秒（只查两个计数器）")
        indexed = sum(1 for b in report["brands"] if b["index"] is not None)
        print(f"显示指数的品牌：{indexed}/{N_BRANDS}；目标 < 5 秒：{'达到' if elapsed < 5 else '未达到'}")


if __name__ == "__main__":
    main()
