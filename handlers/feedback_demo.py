"""Demo suggestions and survey answers, so the dashboard's 职工心声 pages have something to show.

Only for the demo (``flask --app bot voice-demo`` refuses outside demo mode). Suggestions go
through the real operations (submit, accept, answer, reject), so their tickets, categories,
deadlines and history are what a worker's message would produce.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.actor import SYSTEM
from handlers.clock import SHANGHAI
from handlers.suggestions import operations as ops
from handlers.surveys.demo import add_demo_responses
from models import Union, User

# Kept as it was: demo databases made before hold these openids, and the second run checks them.
DEMO_PREFIX = "demo-voice-"
# (union code, text, anonymous, what the union has done so far)
SUGGESTIONS = (
    ("BZ-BC-001", "食堂的饭菜品种太少，希望增加几个窗口，晚班也能吃上热饭", False, "answer"),
    ("BZ-BC-001", "车间夏天太热，防暑降温用品发放不及时", True, "accept"),
    ("BZ-BC-001", "劳保手套质量差，一周就磨破了，希望更换供应商", False, None),
    ("BZ-BC-002", "夜班护士的休息室太小，希望改善值班休息条件", False, "accept"),
    ("BZ-BC-002", "希望工会多组织技能培训和岗位练兵活动", False, None),
    ("BZ-ZP-001", "纺织车间噪音大，希望发放降噪耳塞并定期体检", False, None),
    ("BZ-ZP-001", "女职工休息室和母婴室不够用", True, None),
    ("LY-LS-001", "物流园夜间装卸没有休息的地方，希望建职工驿站", False, "reject"),
    ("JN-LX-001", "加班费计算标准不清楚，希望公开", False, None),
)
ANSWER = "已与相关部门协商，下周起增加两个窗口，晚班供应热饭。"
REASON = "属于企业经营事项，已转告企业行政，建议通过职代会提出。"


def demo_step(now: datetime, count: int) -> timedelta:
    """A day between demo suggestions, shortened so that all ``count`` fall in ``now``'s month
    (Asia/Shanghai): the topics page shows the current month, and the demo must look the same
    on the 1st as on the 20th."""
    local = now.astimezone(SHANGHAI)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return min(timedelta(days=1), (local - month_start) / (count + 1))


def load_feedback_demo(session: Session, now: datetime) -> dict[str, int]:
    """Add the demo workers, suggestions and survey responses once; a second run adds nothing."""
    if session.scalar(select(User.id).where(User.openid.startswith(DEMO_PREFIX)).limit(1)) is not None:
        return {"suggestions": 0, "responses": 0}
    unions = {u.code: u for u in session.scalars(select(Union))}
    workers: dict[str, User] = {}
    step = demo_step(now, len(SUGGESTIONS))
    for i, (code, text, anonymous, done) in enumerate(SUGGESTIONS):
        if code not in unions:
            continue
        worker = workers.get(code)
        if worker is None:
            worker = User(openid=f"{DEMO_PREFIX}{code}", union_id=unions[code].id, last_message_at=now)
            session.add(worker)
            session.flush()
            workers[code] = worker
        filed_at = now - step * (len(SUGGESTIONS) - i)
        s = ops.submit(session, worker, text, filed_at, anonymous=anonymous)
        if done in ("accept", "answer"):
            ops.accept(session, s, SYSTEM, filed_at + step / 12)
        if done == "answer":
            ops.answer(session, s, SYSTEM, ANSWER, filed_at + step / 2)
            s.answer_delivered_at = filed_at + step / 2  # the demo has no one to push to
        if done == "reject":
            ops.reject(session, s, SYSTEM, REASON, filed_at + step / 8)
    responses = add_demo_responses(session, unions, DEMO_PREFIX, now - 2 * step)
    session.flush()
    return {"suggestions": len(SUGGESTIONS), "responses": responses}
