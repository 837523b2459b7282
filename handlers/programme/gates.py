"""The five steps as a state machine: the allowed moves and the evidence each one needs.

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
the review's gap compares against). Every path (chat, dashboard, CLI, import) moves a brand
through ``handlers.programme.operations``, which asks these gates, so the rules hold once for all.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from handlers.errors import OperationError
from handlers.programme.evidence import (
    entered_stage_at,
    latest_assessment,
    latest_plan,
    round_opened_by,
    round_reports,
    round_self_evaluation,
)
from models import Brand, Stage
from models.programme import Decision


class LifecycleError(OperationError):
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
