"""Loading the demo fixture (config/demo/demo.yaml)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy.orm import Session

from handlers.actor import Actor
from handlers.programme import operations as ops
from handlers.programme.brands import BrandError, upsert_brand
from handlers.programme.evidence import timeline
from handlers.programme.gates import STAGE_ORDER, LifecycleError
from handlers.programme.union_tree import upsert_union
from models import Brand, Stage, utcnow
from models.programme import Decision, ProgressReport, Standard

DEMO_FILE = Path(__file__).resolve().parent.parent / "config" / "demo" / "demo.yaml"
DEMO_ACTOR = Actor.system("演示数据")
DEMO_REVIEWER = Actor.system("上级工会（演示）")


def load_demo(session: Session, path: Path = DEMO_FILE, now: datetime | None = None) -> dict[str, int]:
    """Upsert the demo unions and brands; running it twice changes nothing.

    A brand listed at a later stage is walked there through the lifecycle operations, with the
    plan, progress, self-evaluation and review each gate asks for, so the demo obeys the same
    gates as real data (and a reviewer can review a demo brand under review at once).
    """
    now = now or utcnow()
    data: dict[str, Any] = yaml.safe_load(path.read_text(encoding="utf-8"))
    for row in data["unions"]:
        upsert_union(session, row["code"], row["name"], row["kind"], row.get("parent"), row.get("members"))
    for row in data["brands"]:
        brand = upsert_brand(session, row["name"], row["union"], row.get("aliases", []))
        if not timeline(session, brand):
            try:
                stage = ops.parse_stage(row.get("stage") or Stage.PROPOSED.value)
            except LifecycleError as exc:
                raise BrandError(str(exc)) from exc
            walk_to(session, brand, stage, now)
    return {"unions": len(data["unions"]), "brands": len(data["brands"])}


def walk_to(session: Session, brand: Brand, stage: Stage, now: datetime) -> None:
    """Give a brand without a timeline the history that brings it to ``stage`` (days before ``now``)."""
    order = STAGE_ORDER.index(stage)
    ops.record_transition(session, brand, Stage.PROPOSED, DEMO_ACTOR, "演示品牌", now - timedelta(days=120))
    if order >= STAGE_ORDER.index(Stage.PLANNED):
        ops.advance(session, brand, Stage.PLANNED, DEMO_ACTOR, "列入创建计划", now - timedelta(days=110))
    if order >= STAGE_ORDER.index(Stage.CULTIVATING):
        plan = {
            "goals": f"把「{brand.name}」建成职工认可的工作品牌",
            "measures": ["建立工作机制", "开展常态化活动"],
            "long_term": "三年形成可复制的经验",
            "this_year": "完成品牌培育各项任务",
        }
        ops.save_plan(session, brand, plan, DEMO_ACTOR, now - timedelta(days=100))
        ops.advance(session, brand, Stage.CULTIVATING, DEMO_ACTOR, "创建方案已审定", now - timedelta(days=95))
    if order >= STAGE_ORDER.index(Stage.REVIEWING):
        text = "本季度开展品牌活动 6 场，覆盖职工 300 余人次"
        report = ProgressReport(brand_id=brand.id, text=text, created_at=now - timedelta(days=40))
        session.add(report)
        session.flush()
        scores = {s.value: {"score": 80, "evidence": "演示材料", "reports": [report.id]} for s in Standard}
        ops.self_evaluate(session, brand, scores, DEMO_ACTOR, now - timedelta(days=30))
        ops.advance(session, brand, Stage.REVIEWING, DEMO_ACTOR, "申请评议", now - timedelta(days=25))
    if stage == Stage.DEEPENING:
        scores = {
            s.value: {"score": 78, "evidence": "演示评议", "reports": [report.id]}
            for s in Standard
            if s != Standard.RECOGNITION
        }
        at = now - timedelta(days=10)
        ops.review(session, brand, Decision.PROMOTE, "成效明显，同意推广", scores, DEMO_REVIEWER, at)
