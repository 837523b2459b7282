"""Campaign and 社会认可度 pages on a province-sized tree (python bench/admin_recognition_bench.py).

Reuses the tree of bench/admin_bench.py (1,777 unions, 5,000 brands), adds one rating campaign
over 300 brands with 30,000 roster ballots, ~60,000 ratings, G reviews and support votes
(bulk insert), and times the campaign list, the recognition page (first request computes the
live report, later ones hit its cache), the flags page and the exports for the province admin
and a county admin (median of 5 requests, Flask test client, SQLite).
"""

from __future__ import annotations

import random
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import insert, select

from bench.admin_bench import PASSWORD, bench_app, build, logged_in, timed
from bot.admin.accounts import create_account
from handlers.recognition.campaigns import create_campaign
from models import Brand, utcnow
from models.admin import AdminRole
from models.recognition import RecognitionEvent


def main() -> None:
    app = bench_app()
    runtime = app.extensions["ghpp"]
    from models.migrate import upgrade

    upgrade(runtime.engine)
    rng = random.Random(7)
    t0 = utcnow() - timedelta(days=5)
    with runtime.session_factory() as session, session.begin():
        province, county = build(session)
        county_brands = list(session.scalars(select(Brand).where(Brand.union_id == county.id)))
        others = list(session.scalars(select(Brand).where(Brand.union_id != county.id).limit(300)))
        chosen = (county_brands + others)[:300]
        c = create_campaign(session, "全省测评", "rating", [b.name for b in chosen], t0)
        c.union_id = province.id
        ids = [b.id for b in chosen]
        quality = {b: rng.uniform(3.0, 4.6) for b in ids}
        rows = []
        for i in range(30_000):
            grp = "W" if i % 2 else "S"
            shown = rng.sample(ids, 20)
            aware = [b for b in shown if rng.random() < 0.5]
            base = {
                "campaign_id": c.id, "identity_hash": f"id-{i}", "grp": grp, "union_path": None,
                "identity_first_seen_at": t0 - timedelta(days=400), "channel": "neutral_open",
                "src_brand_id": None, "started_at": t0, "submitted_at": t0 + timedelta(seconds=i),
            }  # fmt: skip
            rows.append({**base, "event_key": f"r-{i}", "kind": "roster_ballot", "brand_id": None,
                         "q1": None, "payload": {"shown": shown, "aware": aware}})  # fmt: skip
            for b in aware[:4]:
                q1 = min(5, max(1, round(rng.gauss(quality[b], 0.9))))
                rows.append({**base, "event_key": f"q-{i}-{b}", "kind": "rating", "brand_id": b, "q1": q1,
                             "payload": {}})  # fmt: skip
            if i % 5 == 0:
                rows.append({**base, "event_key": f"v-{i}", "kind": "support_vote",
                             "brand_id": rng.choice(ids), "q1": None, "payload": {}})  # fmt: skip
        for g in range(8):
            for b in ids:
                rows.append({
                    "campaign_id": c.id, "identity_hash": f"g-{g}", "grp": "G", "union_path": None,
                    "identity_first_seen_at": None, "channel": "neutral_invited", "src_brand_id": None,
                    "started_at": t0, "submitted_at": t0, "event_key": f"g-{g}-{b}", "kind": "review_score",
                    "brand_id": b, "q1": 4, "payload": {"items": [4]},
                })  # fmt: skip
        session.execute(insert(RecognitionEvent), rows)
        cid = c.id
        create_account(session, province, "province", AdminRole.ADMIN, PASSWORD, actor_name="bench")
        create_account(session, county, "county", AdminRole.ADMIN, PASSWORD, actor_name="bench")
    print(f"SQLite, 1,777 unions, campaign of 300 brands, {len(rows):,} events; median of 5 requests, ms")
    for username in ("province", "county"):
        client = logged_in(app, username)
        if username == "province":
            start = time.perf_counter()
            assert client.get(f"/admin/campaigns/{cid}").status_code == 200
            print(f"{username:<9} {'first request (computes the live report)':<46} "
                  f"{(time.perf_counter() - start) * 1000:8.1f}")  # fmt: skip
        for url in (
            "/admin/",
            "/admin/campaigns/",
            f"/admin/campaigns/{cid}",
            f"/admin/campaigns/{cid}/flags",
            f"/admin/campaigns/{cid}?format=csv",
            f"/admin/campaigns/{cid}?format=xlsx",
        ):
            print(f"{username:<9} {url:<46} {timed(client, url):8.1f}")


if __name__ == "__main__":
    main()
