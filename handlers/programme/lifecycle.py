"""The five steps as a state machine with evidence gates; plans, self-evaluations and reviews.

Allowed moves (everything else is refused):
    proposed → planned            (no gate: the brand has been put forward)
    planned → cultivating         a complete plan (goals, measures, long-term and this year's plan)
    cultivating → reviewing       a progress report and a self-evaluation, both of this round
    reviewing → deepening         the latest review decided 推广
    reviewing → cultivating       the latest review decided 继续培育
    reviewing → planned           the latest review decided 不予通过 (the plan is to be reworked)
Every move is written to the timeline (who, when, from, to, why).

Rounds: a review closes a round and the next one starts right after it. What the brand showed
before the review cannot carry it through the next one: moving on needs new progress (and, after
不予通过, a new plan); a self-evaluation or a review must cite at least one report or photo of the
current round; and the round's self-evaluation is frozen once it has been reviewed (it is what
the review's gap compares against). Every path (chat, dashboard, CLI, import) goes through these
functions, so the rules hold once for all of them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from models import Brand, Stage
from models.programme import (
    Assessment,
    AssessmentScore,
    BrandPlan,
    Decision,
    Photo,
    PhotoStatus,
    ProgressReport,
    StageTransition,
    Standard,
)


class LifecycleError(ValueError):
    """A refused operation; the message is Chinese, for the person who asked."""


ALLOWED: dict[tuple[Stage, Stage], str] = {
    (Stage.PROPOSED, Stage.PLANNED): "none",
    (Stage.PLANNED, Stage.CULTIVATING): "plan",
    (Stage.CULTIVATING, Stage.REVIEWING): "progress_and_self_evaluation",
    (Stage.REVIEWING, Stage.DEEPENING): Decision.PROMOTE.value,
    (Stage.REVIEWING, Stage.CULTIVATING): Decision.CONTINUE.value,
    (Stage.REVIEWING, Stage.PLANNED): Decision.REJECT.value,
}
# Where each review decision sends a brand that is under review.
DECISION_TARGET = {
    Decision.PROMOTE: Stage.DEEPENING,
    Decision.CONTINUE: Stage.CULTIVATING,
    Decision.REJECT: Stage.PLANNED,
}
STAGE_ORDER = list(Stage)


# --- the recognition index hook ---------------------------------------------------------------


@dataclass(frozen=True)
class RecognitionInfo:
    """What the recognition index says about a brand: its score (0–100) and rank when known."""

    score: float
    rank: int | None = None
    out_of: int | None = None
    campaign: str | None = None
    # The index's own one-paragraph account (interval, status, disclosure) for chat replies.
    summary: str | None = None


RecognitionProvider = Callable[[Session, Brand], RecognitionInfo | None]


def _no_recognition_data(session: Session, brand: Brand) -> RecognitionInfo | None:
    return None


_recognition_provider: RecognitionProvider = _no_recognition_data


def set_recognition_score_provider(provider: RecognitionProvider | None) -> None:
    """The recognition index registers itself here; None restores the default (暂无数据)."""
    global _recognition_provider
    _recognition_provider = provider or _no_recognition_data


def recognition_provider() -> RecognitionProvider:
    """The provider in use (tests put it back after swapping in their own)."""
    return _recognition_provider


def recognition_for(session: Session, brand: Brand) -> RecognitionInfo | None:
    return _recognition_provider(session, brand)


# --- timeline -------------------------------------------------------------------------------


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
    actor: str,
    reason: str,
    now: datetime,
    from_stage: Stage | None = None,
) -> StageTransition:
    entry = StageTransition(
        brand_id=brand.id, from_stage=from_stage, to_stage=to, actor=actor, reason=reason, at=now
    )
    session.add(entry)
    brand.stage = to
    session.flush()
    return entry


def timeline(session: Session, brand: Brand) -> list[StageTransition]:
    stmt = (
        select(StageTransition)
        .where(StageTransition.brand_id == brand.id)
        .order_by(StageTransition.at, StageTransition.id)
    )
    return list(session.scalars(stmt))


def entered_stage_at(session: Session, brand: Brand) -> datetime | None:
    """When the brand entered its current stage (None if the timeline does not say)."""
    stmt = (
        select(func.max(StageTransition.at))
        .where(StageTransition.brand_id == brand.id, StageTransition.to_stage == brand.stage)
        .limit(1)
    )
    return session.scalar(stmt)


# --- evidence -------------------------------------------------------------------------------


def latest_plan(session: Session, brand: Brand) -> BrandPlan | None:
    stmt = (
        select(BrandPlan)
        .where(BrandPlan.brand_id == brand.id)
        .order_by(BrandPlan.created_at.desc(), BrandPlan.id.desc())
    )
    return session.scalars(stmt).first()


def latest_assessment(session: Session, brand: Brand, kind: str) -> Assessment | None:
    stmt = (
        select(Assessment)
        .where(Assessment.brand_id == brand.id, Assessment.kind == kind)
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
    )
    return session.scalars(stmt).first()


def report_count(session: Session, brand: Brand) -> int:
    stmt = select(func.count(ProgressReport.id)).where(ProgressReport.brand_id == brand.id)
    return int(session.scalar(stmt) or 0)


def round_opened_by(session: Session, brand: Brand) -> Assessment | None:
    """The review that closed the previous round (None during the first round)."""
    return latest_assessment(session, brand, "review")


def _after(boundary: Assessment | None) -> datetime | None:
    return boundary.created_at if boundary is not None else None


def round_reports(session: Session, brand: Brand) -> list[int]:
    """Ids of the progress reports filed in the current round."""
    stmt = select(ProgressReport.id).where(ProgressReport.brand_id == brand.id)
    since = _after(round_opened_by(session, brand))
    if since is not None:
        stmt = stmt.where(ProgressReport.created_at > since)
    return list(session.scalars(stmt.order_by(ProgressReport.id)))


def round_photos(session: Session, brand: Brand) -> list[int]:
    """Ids of the brand's own photos of the current round.

    Only stored photos count: a pending one has not been checked against earlier photos yet,
    and a failed one has no picture. A copy of an earlier photo (``duplicate_of_id`` set by the
    photo check, or any flag) is no new evidence.
    """
    stmt = select(Photo.id).where(
        Photo.brand_id == brand.id,
        Photo.status == PhotoStatus.STORED,
        Photo.duplicate_of_id.is_(None),
        Photo.flag.is_(None),
    )
    since = _after(round_opened_by(session, brand))
    if since is not None:
        stmt = stmt.where(Photo.captured_at > since)
    return list(session.scalars(stmt.order_by(Photo.id)))


def round_self_evaluation(session: Session, brand: Brand) -> Assessment | None:
    """The latest self-evaluation filed in the current round."""
    own = latest_assessment(session, brand, "self")
    boundary = round_opened_by(session, brand)
    if own is None or (boundary is not None and not _later(own, boundary)):
        return None
    return own


def _later(a: Assessment, b: Assessment) -> bool:
    # Ids break ties between rows written at the same instant (one table, one sequence).
    return (a.created_at, a.id) > (b.created_at, b.id)


def gate_problem(
    session: Session, brand: Brand | None, to: Stage, from_stage: Stage | None = None
) -> str | None:
    """Why the brand may not move from ``from_stage`` (default: its stage) to ``to``, or None.

    ``brand`` None stands for a brand that does not exist yet (an import): it has no evidence.
    """
    source = from_stage if from_stage is not None else (brand.stage if brand else Stage.PROPOSED)
    gate = ALLOWED.get((source, to))
    if gate is None:
        return f"不允许从「{source.label}」直接进入「{to.label}」"
    if gate == "plan":
        plan = latest_plan(session, brand) if brand else None
        if plan is None:
            return "离开「制定方案」需要先提交创建方案（目标、措施、长期规划和年度计划）"
        boundary = round_opened_by(session, brand) if brand else None
        if boundary is not None and plan.created_at <= boundary.created_at:
            return "上次评议之后需要重新提交创建方案，才能再次进入「培育创建」"
    elif gate == "progress_and_self_evaluation":
        if brand is None or not round_reports(session, brand):
            if brand is not None and round_opened_by(session, brand) is not None:
                return "离开「培育创建」需要上次评议之后的新进度上报（上一轮的材料不能再次送评）"
            return "离开「培育创建」需要至少一条进度上报"
        if round_self_evaluation(session, brand) is None:
            return "进入「评议推广」需要先完成本轮对照“五个有”的自评"
    elif gate in {d.value for d in Decision}:
        review = latest_assessment(session, brand, "review") if brand else None
        since = entered_stage_at(session, brand) if brand else None
        if review is None or (since is not None and review.created_at < since):
            return "需要上级在本轮评议中作出评议结论"
        if review.decision != Decision(gate):
            assert review.decision is not None
            return f"上级评议结论为「{review.decision.label}」，不能进入「{to.label}」"
    return None


def path_problem(session: Session, brand: Brand | None, to: Stage) -> str | None:
    """Why a brand may not be carried forward step by step to ``to`` (an import), or None.

    Each step must pass its own gate on the evidence already recorded; going back is only ever
    a review's decision.
    """
    source = brand.stage if brand is not None else Stage.PROPOSED
    start, end = STAGE_ORDER.index(source), STAGE_ORDER.index(to)
    if end < start:
        return f"不能退回「{to.label}」（退回只能由上级评议决定）"
    for here, there in zip(STAGE_ORDER[start:end], STAGE_ORDER[start + 1 : end + 1], strict=True):
        problem = gate_problem(session, brand, there, from_stage=here)
        if problem is not None:
            return problem
    return None


def advance(
    session: Session, brand: Brand, to: Stage, actor: str, reason: str, now: datetime
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
    session: Session, brand: Brand, data: Mapping[str, Any], author: str, now: datetime
) -> BrandPlan:
    values = {key: _text(data.get(key)) for key in PLAN_FIELDS}
    missing = [label for key, label in PLAN_FIELDS.items() if not values[key]]
    if missing:
        raise LifecycleError(f"创建方案缺少：{'、'.join(missing)}")
    plan = BrandPlan(brand_id=brand.id, author=author, created_at=now, **values)
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
    session: Session, brand: Brand, scores: Any, author: str, now: datetime, comments: str | None = None
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
    assessment = Assessment(brand_id=brand.id, kind="self", author=author, comments=comments, created_at=now)
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
    reviewer: str,
    now: datetime,
) -> tuple[Assessment, StageTransition]:
    """The superior's review of a brand under review; the decision moves the brand at once.

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
    info = recognition_for(session, brand)
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
        author=reviewer,
        decision=decision,
        comments=comments.strip(),
        created_at=now,
    )
    assessment.scores = [parsed[s] for s in Standard]
    session.add(assessment)
    session.flush()
    reason = f"上级评议：{decision.label}。{comments.strip()}"
    move = advance(session, brand, DECISION_TARGET[decision], reviewer, reason, now)
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


@dataclass(frozen=True)
class GapRow:
    standard: Standard
    self_score: float | None
    review_score: float | None

    @property
    def gap(self) -> float | None:
        """Self minus superior: positive when the brand rated itself higher."""
        if self.self_score is None or self.review_score is None:
            return None
        return self.self_score - self.review_score


def reviewed_self_evaluation(session: Session, brand: Brand, review: Assessment) -> Assessment | None:
    """The self-evaluation the review judged: the latest one filed before it (same round)."""
    stmt = (
        select(Assessment)
        .where(
            Assessment.brand_id == brand.id,
            Assessment.kind == "self",
            Assessment.created_at <= review.created_at,
        )
        .order_by(Assessment.created_at.desc(), Assessment.id.desc())
    )
    return next((a for a in session.scalars(stmt) if _later(review, a)), None)


def score_gap(session: Session, brand: Brand) -> list[GapRow]:
    """The latest review against the self-evaluation of the round it closed, standard by standard.

    Without a review yet, the latest self-evaluation stands alone. A self-evaluation filed after
    a review belongs to the next round and never changes that review's gap.
    """
    sup = latest_assessment(session, brand, "review")
    own = reviewed_self_evaluation(session, brand, sup) if sup else latest_assessment(session, brand, "self")
    rows = []
    for standard in Standard:
        s = own.score_for(standard) if own else None
        r = sup.score_for(standard) if sup else None
        rows.append(GapRow(standard, s.score if s else None, r.score if r else None))
    return rows
