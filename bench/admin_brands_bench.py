"""Brand programme pages on a province-sized tree (run by hand: python bench/admin_brands_bench.py).

The admin bench's tree (1,777 unions, 5,000 brands) plus, per brand, a timeline entry, two progress
reports and two stored photos, and a self-evaluation for brands under review. Times the brand page,
the dossier, the photo route, the coverage page and its XLSX, the overview with its panels, and
one review submission (median of 5 requests, Flask test client, no network).
"""

from __future__ import annotations

import re
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import select

from bench.admin_bench import PASSWORD, bench_app, build, logged_in, timed
from bot.admin.accounts import create_account
from handlers.actor import Actor
from handlers.programme import operations as ops
from handlers.programme.storage import LocalStorage, photo_key
from models import Brand, Role, Stage, Union, User, utcnow
from models.admin import AdminRole
from models.migrate import upgrade
from models.programme import Photo, PhotoStatus, ProgressReport, StageTransition
from tests.factories_programme import png_bytes


def main() -> None:
    app = bench_app()
    runtime = app.extensions["ghpp"]
    upgrade(runtime.engine)
    storage = LocalStorage(Path(runtime.job_options["media_dir"]))
    now = utcnow()
    with runtime.session_factory() as session, session.begin():
        province, county = build(session)
        create_account(session, province, "province", AdminRole.ADMIN, PASSWORD, actor_name="bench")
        create_account(session, county, "county", AdminRole.ADMIN, PASSWORD, actor_name="bench")
        cadre = User(openid="bench-cadre", role=Role.CADRE)
        session.add(cadre)
        session.flush()
        n = 0
        for brand in session.scalars(select(Brand)):
            at = now - timedelta(days=90)
            brand.created_at = at  # every brand quiet: the coverage page at its largest
            session.add(
                StageTransition(brand_id=brand.id, to_stage=brand.stage, actor="bench", reason="导入", at=at)
            )
            for r in range(2):
                report = ProgressReport(brand_id=brand.id, author_id=cadre.id, text=f"进度{r}", created_at=at)
                session.add(report)
                session.flush()
                for _ in range(1):
                    content = png_bytes(n)
                    key = photo_key(f"{n:064x}", "png")
                    storage.put(key, content, "image/png")
                    session.add(
                        Photo(
                            media_id=f"b{n}",
                            uploader_id=cadre.id,
                            brand_id=brand.id,
                            report_id=report.id,
                            captured_at=at,
                            status=PhotoStatus.STORED,
                            storage_key=key,
                            content_type="image/png",
                        )
                    )
                    n += 1
            if brand.stage == Stage.REVIEWING:
                # A self-evaluation cites this round's material (the programme gate).
                scores = {
                    s: {"score": 80, "reports": [report.id]}
                    for s in ("name", "mechanism", "carriers", "demonstration", "recognition")
                }
                ops.self_evaluate(session, brand, scores, Actor.system("bench"), at)
        in_county = select(Union.id).where(Union.path.startswith(county.path))
        sample = session.scalar(
            select(Brand).where(Brand.union_id.in_(in_county), Brand.stage == Stage.REVIEWING)
        )
        assert sample is not None
        brand_id = sample.id
        photo_id = session.scalar(select(Photo.id).where(Photo.brand_id == brand_id))
    print(f"SQLite, 1,777 unions, 5,000 brands, 10,000 reports, {n:,} photos; median of 5 requests, ms")
    for username in ("province", "county"):
        client = logged_in(app, username)
        for url in (
            "/admin/",
            f"/admin/brands/{brand_id}",
            f"/admin/programme/brands/{brand_id}/dossier",
            f"/admin/programme/photos/{photo_id}",
            "/admin/programme/coverage",
            "/admin/programme/coverage?format=xlsx",
            "/admin/programme/invitations",
        ):
            print(f"{username:<9} {url:<46} {timed(client, url):8.1f}")
    # One review by the province admin (a strict ancestor): write, audit, commit, redirect.
    client = logged_in(app, "province")
    token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/admin/").get_data(as_text=True))
    assert token
    form = {f"score_{s}": "80" for s in ("name", "mechanism", "carriers", "demonstration")}
    form |= {"decision": "continue", "comments": "继续培育", "csrf_token": token.group(1)}
    form["photos_carriers"] = str(photo_id)  # a review cites this round's material
    start = time.perf_counter()
    response = client.post(f"/admin/programme/brands/{brand_id}/review", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    elapsed = (time.perf_counter() - start) * 1000
    print(f"{'province':<9} {'POST review (write, audit, commit)':<46} {elapsed:8.1f}")


if __name__ == "__main__":
    main()
