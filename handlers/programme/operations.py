"""The programme's state changes, one per event: a stage move, a plan, a self-evaluation, a review.

Every path (chat, dashboard, CLI, import) goes through these functions, so the gates
(``handlers.programme.gates``) and the round rules hold once for all of them. Each takes the
``Actor`` who acted; its label is what the timeline, plan or assessment records as "by".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.actor import Actor
from handlers.programme.evidence import round_photos, round_reports
from handlers.programme.gates import DECISION_TARGET, LifecycleError, gate_problem
from handlers.programme.recognition_hook import RecognitionInfo, RecognitionProvider, no_recognition_data
from models import Brand, Stage
from models.programme import (
    Assessment,
    AssessmentScore,
    BrandPlan,
    Decision,
    Photo,
    ProgressReport,
    StageTransition,
    Standard,
)


def parse_stage(value: str) -> Stage:
    value = value.strip()
    for stage in Stage:
        if value in (stage.value, stage.label):
            return stage
    names = "、".join(f"{s.value}（{s.label}）" for s in Stage)
    raise LifecycleError(f"阶段 {value!r} 无效，应为：{names}")


def record_transition(
    session: Session,
    brand: Brand,
    to: Stage,
    actor: Actor,
    reason: str,
    now: datetime,
    from_stage: Stage | None = None,
) -> StageTransition:
    entry = StageTransition(
        brand_id=brand.id, from_stage=from_stage, to_stage=to, actor=actor.label, reason=reason, at=now
    )
    session.add(entry)
    brand.stage = to
    session.flush()
    return entry


def advance(
    session: Session, brand: Brand, to: Stage, actor: Actor, reason: str, now: datetime
) -> StageTransition:
    if not reason.strip():
        raise LifecycleError("请说明变更阶段的理由")
    problem = gate_problem(session, brand, to)
    if problem is not None:
        raise LifecycleError(f"品牌「{brand.name}」{problem}。")
    return record_transition(session, brand, to, actor, reason.strip(), now, from_stage=brand.stage)


# --- plans and assessments ------------------------------------------------------------------

PLAN_FIELDS = {"goals": "目标", "measures": "措施", "long_term": "长期规划", "this_year": "年度计划"}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list):
        return "\n".join(f"{i}. {str(v).strip()}" for i, v in enumerate(value, 1))
    return str(value).strip()


def save_plan(
    session: Session, brand: Brand, data: Mapping[str, Any], actor: Actor, now: datetime
) -> BrandPlan:
    values = {key: _text(data.get(key)) for key in PLAN_FIELDS}
    missing = [label for key, label in PLAN_FIELDS.items() if not values[key]]
    if missing:
        raise LifecycleError(f"创建方案缺少：{'、'.join(missing)}")
    plan = BrandPlan(brand_id=brand.id, author=actor.label, created_at=now, **values)
    session.add(plan)
    session.flush()
    return plan


def _ids(session: Session, model: type[ProgressReport] | type[Photo], brand: Brand, raw: Any) -> list[int]:
    if raw is None:
        return []
    if not isinstance(raw, list) or not all(isinstance(x, int) and not isinstance(x, bool) for x in raw):
        raise LifecycleError("关联的进度或照片编号应为整数列表")
    ids = sorted(set(raw))
    found = set(session.scalars(select(model.id).where(model.id.in_(ids), model.brand_id == brand.id)))
    unknown = [i for i in ids if i not in found]
    if unknown:
        label = "进度上报" if model is ProgressReport else "照片"
        raise LifecycleError(f"{label}编号 {', '.join(map(str, unknown))} 不属于品牌「{brand.name}」")
    return ids


def _score(value: Any, standard: Standard) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise LifecycleError(f"「{standard.label}」的分数应为 0–100 的数字")
    if not 0 <= value <= 100:
        raise LifecycleError(f"「{standard.label}」的分数 {value} 超出 0–100")
    return float(value)


def _parse_standard(key: str) -> Standard:
    for standard in Standard:
        if key in (standard.value, standard.label):
            return standard
    raise LifecycleError(f"未知的标准 {key!r}，应为：{'、'.join(s.value for s in Standard)}")


def _scores(
    session: Session, brand: Brand, raw: Any, *, typed: tuple[Standard, ...]
) -> dict[Standard, AssessmentScore]:
    if not isinstance(raw, Mapping):
        raise LifecycleError(
            "scores 应为按标准分列的表（name、mechanism、carriers、demonstration、recognition）"
        )
    given = {_parse_standard(str(k)): v for k, v in raw.items()}
    result: dict[Standard, AssessmentScore] = {}
    for standard in typed:
        entry = given.pop(standard, None)
        if entry is None:
            raise LifecycleError(f"缺少「{standard.label}」的评分")
        if not isinstance(entry, Mapping):
            entry = {"score": entry}
        result[standard] = AssessmentScore(
            standard=standard,
            score=_score(entry.get("score"), standard),
            evidence=_text(entry.get("evidence")) or None,
            report_ids=_ids(session, ProgressReport, brand, entry.get("reports")),
            photo_ids=_ids(session, Photo, brand, entry.get("photos")),
        )
    if given:
        extra = "、".join(s.label for s in given)
        raise LifecycleError(f"「{extra}」不应在此填写分数（社会认可度由认可度指数自动填入）")
    return result


def self_evaluate(
    session: Session, brand: Brand, scores: Any, actor: Actor, now: datetime, comments: str | None = None
) -> Assessment:
    """A self-evaluation: all five standards, each 0–100 with its evidence.

    Only while a round is open (培育创建 or 评议推广 before the review): once reviewed, the
    round's self-evaluation is what the review is compared with, so it is frozen.
    """
    if brand.stage == Stage.DEEPENING:
        raise LifecycleError(
            f"品牌「{brand.name}」已评议推广，本轮自评已随上级评议锁定，不能再提交或修改自评"
        )
    if brand.stage not in (Stage.CULTIVATING, Stage.REVIEWING):
        raise LifecycleError(f"品牌「{brand.name}」处于「{brand.stage.label}」，进入培育创建后才能自评")
    parsed = _scores(session, brand, scores, typed=tuple(Standard))
    _require_round_evidence(session, brand, parsed.values(), "自评")
    assessment = Assessment(
        brand_id=brand.id, kind="self", author=actor.label, comments=comments, created_at=now
    )
    assessment.scores = [parsed[s] for s in Standard]
    session.add(assessment)
    session.flush()
    return assessment


def _require_round_evidence(
    session: Session, brand: Brand, scores: Iterable[AssessmentScore], what: str
) -> None:
    """At least one cited report or photo must be of the current round; else a Chinese refusal."""
    cited_reports = {i for s in scores for i in s.report_ids}
    cited_photos = {i for s in scores for i in s.photo_ids}
    reports, photos = round_reports(session, brand), round_photos(session, brand)
    if cited_reports & set(reports) or cited_photos & set(photos):
        return
    if reports or photos:
        offer = "；".join(
            part
            for part in (
                f"进度上报编号 {'、'.join(map(str, reports))}" if reports else "",
                f"照片编号 {'、'.join(map(str, photos))}" if photos else "",
            )
            if part
        )
        raise LifecycleError(
            f"{what}需要至少引用一份本轮的材料（进度上报或照片）。品牌「{brand.name}」本轮可引用：{offer}"
        )
    raise LifecycleError(
        f"{what}需要至少引用一份本轮的材料（进度上报或照片），品牌「{brand.name}」本轮还没有任何材料，"
        "请先上报进度或照片"
    )


def parse_decision(value: str) -> Decision:
    value = str(value).strip()
    for decision in Decision:
        if value in (decision.value, decision.label):
            return decision
    raise LifecycleError(f"评议结论 {value!r} 无效，应为：推广、继续培育、不予通过")


def review(
    session: Session,
    brand: Brand,
    decision: Decision,
    comments: str,
    scores: Any,
    actor: Actor,
    now: datetime,
    recognition: RecognitionProvider = no_recognition_data,
) -> tuple[Assessment, StageTransition]:
    """The superior's review of a brand under review; the decision moves the brand at once.

    ``recognition`` is the registry's provider (the dashboard and the CLI pass the service's).

    Four standards are scored by the reviewer; recognition comes from the recognition index
    (None, shown as 暂无数据, while the index has no result for the brand).
    """
    if brand.stage != Stage.REVIEWING:
        raise LifecycleError(f"品牌「{brand.name}」处于「{brand.stage.label}」，不在评议推广阶段，不能评议")
    if not comments.strip():
        raise LifecycleError("评议意见不能为空")
    typed = tuple(s for s in Standard if s != Standard.RECOGNITION)
    parsed = _scores(session, brand, scores, typed=typed)
    _require_round_evidence(session, brand, parsed.values(), "评议")
    info = recognition(session, brand)
    parsed[Standard.RECOGNITION] = AssessmentScore(
        standard=Standard.RECOGNITION,
        score=info.score if info else None,
        evidence=_recognition_evidence(info),
        report_ids=[],
        photo_ids=[],
    )
    assessment = Assessment(
        brand_id=brand.id,
        kind="review",
        author=actor.label,
        decision=decision,
        comments=comments.strip(),
        created_at=now,
    )
    assessment.scores = [parsed[s] for s in Standard]
    session.add(assessment)
    session.flush()
    reason = f"上级评议：{decision.label}。{comments.strip()}"
    move = advance(session, brand, DECISION_TARGET[decision], actor, reason, now)
    return assessment, move


def _recognition_evidence(info: RecognitionInfo | None) -> str:
    if info is None:
        return "社会认可度指数暂无数据"
    text = f"社会认可度指数 {info.score:.1f}"
    if info.rank is not None:
        text += f"，排名第 {info.rank}" + (f"/{info.out_of}" if info.out_of else "")
    if info.campaign:
        text += f"（{info.campaign}）"
    return text
