"""Cohorts (issue 12 §2): a campaign ranks one level of brands inside one region, never a county
brand against province departments."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy.orm import Session

from handlers.recognition.campaigns import CampaignError, brand_level, create_campaign
from handlers.recognition.report import compute_report
from models import UnionKind
from models.recognition import CampaignBrand
from tests.factories import make_brand, make_union
from tests.handlers.recognition.conftest import T0


@pytest.fixture
def tree(session: Session):
    prov = make_union(session, name="山东省总工会", kind=UnionKind.PROVINCE)
    dept = make_union(session, prov, name="省总女职工部", kind=UnionKind.PROVINCE_DEPT)
    bz = make_union(session, prov, name="滨州市总工会", kind=UnionKind.CITY)
    ly = make_union(session, prov, name="临沂市总工会", kind=UnionKind.CITY)
    bc = make_union(session, bz, name="滨城区总工会", kind=UnionKind.COUNTY)
    zp = make_union(session, bz, name="邹平市总工会", kind=UnionKind.COUNTY)
    ls = make_union(session, ly, name="兰山区总工会", kind=UnionKind.COUNTY)
    return {
        "prov": prov,
        "bz": bz,
        "mama": make_brand(session, dept, name="爱心妈妈小屋"),
        "bc": make_brand(session, bc, name="滨城幸福驿站"),
        "zp": make_brand(session, zp, name="邹平纺织工匠"),
        "ls": make_brand(session, ls, name="兰山物流之家"),
        "city": make_brand(session, bz, name="滨州职工大讲堂"),
    }


def test_brand_levels(tree) -> None:
    assert [brand_level(tree[k]) for k in ("mama", "city", "bc")] == ["province", "city", "county"]


def test_county_brand_never_ranked_with_province_departments(session: Session, tree) -> None:
    with pytest.raises(CampaignError, match="不同层级") as exc:
        create_campaign(session, "混合测评", "rating", ["爱心妈妈小屋", "滨城幸福驿站"], T0)
    assert "县区级" in str(exc.value) and "省级" in str(exc.value)
    with pytest.raises(CampaignError, match="县区级品牌，不在本活动的比较组（省级·全省）内"):
        create_campaign(
            session, "省级测评", "rating", ["爱心妈妈小屋", "滨城幸福驿站"], T0, cohort_level="province"
        )


def test_brand_outside_the_organisers_subtree_is_refused(session: Session, tree) -> None:
    with pytest.raises(CampaignError, match="不属于滨州市总工会及其下级"):
        create_campaign(
            session, "滨州县区测评", "rating", ["滨城幸福驿站", "兰山物流之家"], T0, union=tree["bz"]
        )


def test_cohort_is_recorded_and_all_means_the_cohort(session: Session, tree) -> None:
    c = create_campaign(session, "滨州县区测评", "rating", "all", T0, union=tree["bz"], cohort_level="county")
    assert (c.cohort_level, c.cohort_union_id) == ("county", tree["bz"].id)
    assert [e.brand.name for e in c.entries] == ["滨城幸福驿站", "邹平纺织工匠"]
    province = create_campaign(session, "全省测评", "rating", ["爱心妈妈小屋"], T0, union=tree["prov"])
    assert (province.cohort_level, province.cohort_union_id) == ("province", None)
    with pytest.raises(CampaignError, match="比较组层级只能是"):
        create_campaign(session, "x", "rating", "all", T0, cohort_level="town")


def test_ranks_refused_for_a_candidate_outside_the_cohort(session: Session, tree) -> None:
    c = create_campaign(
        session, "滨州县区测评", "rating", ["滨城幸福驿站"], T0 - timedelta(days=1), union=tree["bz"]
    )
    compute_report(session, c)  # in its cohort: computed
    c.entries.append(CampaignBrand(brand=tree["mama"], number=2))  # bypassing create_campaign
    session.flush()
    with pytest.raises(CampaignError, match="省级品牌"):
        compute_report(session, c)


def test_cli_says_why_in_chinese(app) -> None:
    rt = app.extensions["ghpp"]
    with rt.session_factory() as session, session.begin():
        prov = make_union(session, name="省总", kind=UnionKind.PROVINCE)
        make_brand(session, make_union(session, prov, kind=UnionKind.PROVINCE_DEPT), name="省级品牌甲")
        city = make_union(session, prov, kind=UnionKind.CITY)
        make_brand(session, make_union(session, city, kind=UnionKind.COUNTY), name="县级品牌乙")
    runner = app.test_cli_runner()
    mixed = ["campaign", "create", "--name", "混合", "--kind", "rating", "--brands", "省级品牌甲,县级品牌乙"]
    out = runner.invoke(args=mixed)
    assert out.exit_code != 0 and "不同层级" in out.output
    out = runner.invoke(args=[*mixed, "--cohort-level", "county"])
    assert (
        out.exit_code != 0 and "「省级品牌甲」是省级品牌，不在本活动的比较组（县区级·全省）内" in out.output
    )
    ok = runner.invoke(
        args=["campaign", "create", "--name", "县级", "--kind", "rating", "--brands", "县级品牌乙"]
    )
    assert ok.exit_code == 0, ok.output
