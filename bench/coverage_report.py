"""Time the coverage report (督导) on a generated union tree. Run by hand:

    python -m bench.coverage_report [N_UNIONS] [DATABASE_URL]

Builds a province → departments/industries/cities → counties → grassroots tree of about
N_UNIONS unions (default 20,000) with a brand on every other city and county and a recent
report on a third of the brands, in a throw-away SQLite file unless a DATABASE_URL is given
(that database is wiped first: never point it at real data).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

import models
from handlers.programme.coverage import coverage
from models import Brand, Union, UnionKind, utcnow
from models.db import make_engine
from models.migrate import upgrade
from models.programme import ProgressReport
from tests.factories_programme import add_province, add_union_level


def build(session: Session, n_unions: int) -> int:
    province = add_province(session)

    def level(kind: UnionKind, parents: list[Union], per: int) -> list[Union]:
        return add_union_level(session, kind, parents, per, f"{kind.value}-")

    level(UnionKind.PROVINCE_DEPT, [province], 20)
    level(UnionKind.INDUSTRY, [province], 15)
    cities = level(UnionKind.CITY, [province], 16)
    counties = level(UnionKind.COUNTY, cities, 12)
    per_county = max(1, (n_unions - 1 - 20 - 15 - 16 - len(counties)) // len(counties))
    level(UnionKind.GRASSROOTS, counties, per_county)
    now = utcnow()
    brands = [
        Brand(name=f"品牌{u.code}", union_id=u.id, created_at=now - timedelta(days=300))
        for u in (cities + counties)[::2]
    ]
    session.add_all(brands)
    session.flush()
    session.add_all(
        ProgressReport(brand_id=b.id, text="进展", created_at=now - timedelta(days=5)) for b in brands[::3]
    )
    session.flush()
    return 1 + 20 + 15 + len(cities) + len(counties) + per_county * len(counties)


def main() -> None:
    n_unions = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    url = sys.argv[2] if len(sys.argv) > 2 else f"sqlite:///{Path(tempfile.mkdtemp()) / 'bench.sqlite3'}"
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        else:
            models.Base.metadata.drop_all(conn)
            conn.execute(text("DROP TABLE IF EXISTS alembic_version"))
    upgrade(engine)
    with Session(engine) as session, session.begin():
        made = build(session, n_unions)
    with Session(engine) as session:
        timings = []
        for _ in range(5):
            started = time.perf_counter()
            report = coverage(session, utcnow())
            timings.append(time.perf_counter() - started)
    timings.sort()
    print(
        f"{engine.dialect.name}: {made} unions, {report.units_expected} expected to have brands, "
        f"{len(report.missing)} missing, {len(report.quiet)} quiet brands; "
        f"coverage() median {timings[2] * 1000:.0f} ms, best {timings[0] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
