"""The coverage report (督导) on a generated tree of 2,000 unions."""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta

from handlers.actor import Actor
from handlers.programme import coverage as cov
from handlers.programme.operations import record_transition
from models import Brand, Stage, Union, UnionKind, utcnow
from models.programme import Assessment, ProgressReport
from tests.factories_programme import add_province, add_union_level

N_DEPTS, N_INDUSTRIES, N_CITIES, COUNTIES_PER_CITY = 10, 9, 14, 10
N_UNIONS = 2000


def build_tree(session) -> dict[str, list[Union]]:
    """Province → departments, industries, cities → counties → grassroots: exactly 2,000 unions."""
    province = add_province(session)
    tree: dict[str, list[Union]] = {"province": [province]}

    def level(kind: UnionKind, parents: list[Union], per_parent: int, key: str) -> list[Union]:
        return add_union_level(session, kind, parents, per_parent, key)

    tree["dept"] = level(UnionKind.PROVINCE_DEPT, [province], N_DEPTS, "D")
    tree["industry"] = level(UnionKind.INDUSTRY, [province], N_INDUSTRIES, "I")
    tree["city"] = level(UnionKind.CITY, [province], N_CITIES, "C")
    tree["county"] = level(UnionKind.COUNTY, tree["city"], COUNTIES_PER_CITY, "K")
    so_far = 1 + N_DEPTS + N_INDUSTRIES + N_CITIES + N_CITIES * COUNTIES_PER_CITY
    remaining = N_UNIONS - so_far
    per_county, extra = divmod(remaining, len(tree["county"]))
    grassroots = level(UnionKind.GRASSROOTS, tree["county"], per_county, "G")
    grassroots += level(UnionKind.GRASSROOTS, tree["county"][:extra], 1, "H")
    tree["grassroots"] = grassroots
    session.flush()
    assert sum(len(v) for v in tree.values()) == N_UNIONS
    return tree


def test_coverage_on_2000_unions(session) -> None:
    now = utcnow()
    old, recent = now - timedelta(days=200), now - timedelta(days=10)
    tree = build_tree(session)
    # Brands: every even-indexed city and county, the first 6 departments, no industry union.
    with_brand = tree["city"][::2] + tree["county"][::2] + tree["dept"][:6]
    brands = [
        Brand(name=f"品牌{u.code}", union_id=u.id, stage=Stage.CULTIVATING, created_at=old)
        for u in with_brand
    ]
    # Brands on grassroots unions do not make their county covered.
    brands += [Brand(name=f"品牌{u.code}", union_id=u.id, created_at=old) for u in tree["grassroots"][:5]]
    session.add_all(brands)
    session.flush()
    # Reports: recent for the first 30 brands, old for the next 20; the rest never reported.
    session.add_all(ProgressReport(brand_id=b.id, text="进展", created_at=recent) for b in brands[:30])
    session.add_all(ProgressReport(brand_id=b.id, text="进展", created_at=old) for b in brands[30:50])
    # A brand created last week has not had 60 days yet.
    fresh = Brand(name="新品牌", union_id=tree["county"][1].id, created_at=now - timedelta(days=7))
    session.add(fresh)
    session.flush()
    # Reviews: 3 brands under review for 45 days (one reviewed since), 1 for 5 days.
    for b in brands[:4]:
        record_transition(
            session,
            b,
            Stage.REVIEWING,
            Actor.admin("x"),
            "申请评议",
            now - timedelta(days=45),
            Stage.CULTIVATING,
        )
    record_transition(
        session,
        brands[4],
        Stage.REVIEWING,
        Actor.admin("x"),
        "申请评议",
        now - timedelta(days=5),
        Stage.CULTIVATING,
    )
    session.add(
        Assessment(
            brand_id=brands[3].id,
            kind="review",
            author="y",
            decision="continue",
            created_at=now - timedelta(days=2),
        )
    )
    session.flush()

    report = cov.coverage(session, now)

    expected_units = N_DEPTS + N_INDUSTRIES + N_CITIES + N_CITIES * COUNTIES_PER_CITY
    assert report.units_expected == expected_units
    covered = len(tree["city"][::2]) + len(tree["county"][::2]) + 6 + 1  # + the county of 新品牌
    assert report.units_covered == covered
    assert len(report.missing) == expected_units - covered
    missing_kinds = {m.kind for m in report.missing}
    assert missing_kinds == {"市总工会", "县区总工会", "省总部室", "产业工会"}
    assert all(m.expected == "至少 1 个" for m in report.missing if m.kind == "产业工会")
    assert all(m.expected == "1–2 个" for m in report.missing if m.kind == "市总工会")
    # Quiet: every imported brand but the 30 with recent reports; never the fresh one.
    assert len(report.quiet) == len(brands) - 30
    assert "新品牌" not in {q.brand for q in report.quiet}
    assert {q.days for q in report.quiet} == {200}
    assert sum(q.last_report is None for q in report.quiet) == len(brands) - 50
    assert {o.brand for o in report.overdue} == {b.name for b in brands[:3]}
    assert all(o.days == 45 for o in report.overdue)

    # A subtree: one city with its counties.
    city = tree["city"][1]  # no brand of its own
    sub = cov.coverage(session, now, city)
    assert sub.units_expected == 1 + COUNTIES_PER_CITY
    assert {m.code for m in sub.missing} == {city.code} | {
        k.code
        for k in tree["county"]
        if k.parent_id == city.id and k not in with_brand and k.id != fresh.union_id
    }

    # Renderings carry the same rows.
    data = json.loads(cov.as_json(report))
    assert len(data["missing"]) == len(report.missing) and data["units_expected"] == expected_units
    rows = list(csv.reader(io.StringIO(cov.as_csv(report))))
    assert rows[0] == ["类别", "工会代码", "工会", "品牌", "说明", "天数"]
    assert len(rows) == 1 + len(report.missing) + len(report.quiet) + len(report.overdue)
    table = cov.as_table(report)
    assert f"应创建品牌的单位 {expected_units} 个，已创建 {covered} 个" in table
    assert "三、评议逾期的品牌" in table
