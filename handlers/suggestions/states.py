"""The suggestion state machine: which action is allowed from which state, and who may act."""

from __future__ import annotations

from sqlalchemy.orm import Session

from handlers.actor import Actor
from handlers.suggestions.errors import SuggestionError
from models import Role, Suggestion, SuggestionState, Union, User

S = SuggestionState

TRANSITIONS: dict[str, tuple[tuple[SuggestionState, ...], SuggestionState | None]] = {
    # action: (allowed from-states, to-state; None: unchanged)
    "accept": ((S.SUBMITTED,), S.ACCEPTED),
    "start": ((S.ACCEPTED,), S.IN_PROGRESS),
    "answer": ((S.ACCEPTED, S.IN_PROGRESS), S.ANSWERED),
    "reject": ((S.SUBMITTED,), S.REJECTED),
    "transfer": ((S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS), None),
    "rate": ((S.ANSWERED,), S.RATED),
}
# Waiting for the union: these have a deadline and can be overdue.
OPEN_STATES = (S.SUBMITTED, S.ACCEPTED, S.IN_PROGRESS)
RATINGS = ("satisfied", "basic", "unsatisfied")


def can_act(session: Session, actor: User, s: Suggestion) -> bool:
    """Admins act everywhere; a cadre acts on suggestions of their union or its subtree."""
    if actor.role == Role.ADMIN:
        return True
    if actor.role != Role.CADRE or actor.union_id is None:
        return False
    own = session.get(Union, actor.union_id)
    return own is not None and s.union.is_within(own)


def check(session: Session, s: Suggestion, action: str, actor: Actor | None) -> SuggestionState | None:
    """The state ``action`` leads to, or the refusal.

    A WeChat user (``actor.user_id``) is checked against their role and union; the dashboard and
    the system have checked authority themselves (the account's scope, the job's rules).
    """
    allowed, target = TRANSITIONS[action]
    if s.state not in allowed:
        raise SuggestionError(f"单号 {s.ticket} 当前状态为「{s.state.label}」，不能执行此操作。")
    if actor is not None and actor.user_id is not None:
        user = session.get(User, actor.user_id)
        if user is None or not can_act(session, user, s):
            raise SuggestionError(f"您无权处理单号 {s.ticket} 的建议。")
    return target
