"""What the act-only-on-clear-intent policy does to the labelled router messages (run by hand).

Every message of the standing held-out split (tests/data/heldout/heldout_c.txt, never tuned
on) is sent once, by a fresh follower (a cadre for
progress messages), through handlers.dispatch.handle on a scratch SQLite database with a vote
and a rating campaign open over the evaluation brands. For each message: was something
recorded (vote/rating event, suggestion, progress report, bind attempt), was it asked back, or
only answered? Then "wrong action" = something recorded that the label does not call for.
Run once with the policy and once with it switched off (``gate`` returning None).

    .venv/bin/python -m bench.policy_bench
"""

from __future__ import annotations

import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

import handlers.dispatch as dispatch
from handlers.anonymity import anonymity_key, set_anonymity_key
from handlers.context import Context
from handlers.inbound import Inbound
from handlers.programme.binding import member_card_salt, set_member_salt
from handlers.recognition.campaigns import create_campaign
from handlers.wiring import build_registry
from models import Brand, BrandAlias, Conversation, Role, Suggestion, Union, UnionKind, User
from models.db import make_engine
from models.migrate import upgrade
from models.programme import BindAttempt, ProgressReport
from models.recognition import RecognitionEvent
from models.union import assign_path
from nlp import BrandEntry, Router
from nlp.examples import Example, read_examples

ROOT = Path(__file__).resolve().parent.parent
EVAL = ROOT / "tests" / "data" / "heldout" / "heldout_c.txt"
T0 = datetime(2026, 11, 2, 1, 0, tzinfo=UTC)
RECORDS = {
    "vote": RecognitionEvent,
    "suggest": Suggestion,
    "progress": ProgressReport,
    "bind": BindAttempt,
}


# Messages that must record nothing: found when the service was tried as a new user.
TRAPS = (
    "3",
    "4",
    "工惠乐学的社会认可度怎么样",
    "不是3号，我要投8号",
    "对食堂很不满意，菜里有头发",
    "对工惠乐学很不满意，活动室总是锁着门",
    "工惠乐学排第几？",
    "投3号吗",
    "工惠乐学怎么样",
    "我要匿名投诉",
    "投3号 查询JY20261121-0042 我要提建议",
)


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _last_vote_brand(session: Session) -> str | None:
    event = session.scalars(select(RecognitionEvent).order_by(RecognitionEvent.id.desc())).first()
    brand = session.get(Brand, event.brand_id) if event is not None and event.brand_id else None
    return brand.name if brand is not None else None


def run(with_policy: bool) -> tuple[Counter[str], Counter[tuple[str, str]], int]:
    examples, brands_path = read_examples(EVAL)
    examples += [Example(0, "unknown", None, None, None, None, False, None, t) for t in TRAPS]
    assert brands_path is not None
    lines = [line.split("|") for line in brands_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{tmp}/bench.sqlite3")
        upgrade(engine)
        with Session(engine) as session, session.begin():
            union = Union(code="B", name="评测工会", kind=UnionKind.CITY)
            session.add(union)
            session.flush()
            assign_path(session, union)
            for name, *aliases in lines:
                brand = Brand(name=name.strip(), union=union)
                brand.aliases = [BrandAlias(alias=a.strip()) for a in aliases if a.strip()]
                session.add(brand)
            session.flush()
            names = [name.strip() for name, *_ in lines]
            create_campaign(session, "评选", "vote", names, T0 - timedelta(days=1), max_choices=len(names))
            create_campaign(session, "测评", "rating", names, T0 - timedelta(days=1))
            union_id = union.id
        registry = build_registry()
        router = Router(
            [BrandEntry(n.strip(), tuple(a.strip() for a in al if a.strip())) for n, *al in lines]
        )
        original = dispatch.gate  # type: ignore[attr-defined]  # the name dispatch imports from understanding
        if not with_policy:
            dispatch.gate = lambda ctx, inbound, intent: None  # type: ignore[attr-defined]
        outcomes: Counter[str] = Counter()
        by_label: Counter[tuple[str, str]] = Counter()
        wrong = 0
        try:
            for i, ex in enumerate(examples):
                with Session(engine) as session:  # rolled back: each message meets the same world
                    role = Role.CADRE if ex.intent == "progress" else Role.WORKER
                    user = User(openid=f"o-bench-{i}", role=role, union_id=union_id)
                    session.add(user)
                    session.flush()
                    before = {k: _count(session, m) for k, m in RECORDS.items()}
                    ctx = Context(session=session, user=user, now=T0, router=router, registry=registry)
                    inbound = Inbound(user.openid, "text", T0, msg_id=str(i), content=ex.message)
                    try:
                        dispatch.handle(ctx, inbound)
                    except Exception as exc:  # noqa: BLE001  (counted, not hidden)
                        outcomes["exception"] += 1
                        print(f"  第{ex.line}行 出错：{exc!r}", file=sys.stderr)
                        session.rollback()
                        continue
                    recorded = [k for k, m in RECORDS.items() if _count(session, m) > before[k]]
                    conv = session.scalar(select(Conversation).where(Conversation.user_id == user.id))
                    if recorded:
                        outcome = "recorded"
                        wrong_brand = "vote" in recorded and _last_vote_brand(session) != ex.brand
                        if ex.intent not in recorded or wrong_brand:
                            wrong += 1
                            outcome = "recorded_wrong"
                            if "-v" in sys.argv:
                                print(f"  错误执行：{ex.intent} | {ex.message} → {'、'.join(recorded)}")
                    elif conv is not None and conv.flow == "ask_back":
                        outcome = "asked"
                        if with_policy and "-v" in sys.argv:
                            print(f"  问回：{ex.intent} | {ex.message}")
                    else:
                        outcome = "answered"
                    outcomes[outcome] += 1
                    by_label[(ex.intent, outcome)] += 1
                    session.rollback()
        finally:
            dispatch.gate = original  # type: ignore[attr-defined]
        engine.dispose()
    return outcomes, by_label, wrong


def main() -> None:
    set_member_salt(member_card_salt("bench-only"))
    set_anonymity_key(anonymity_key("bench-only-anonymity-secret"))
    for with_policy in (True, False):
        outcomes, by_label, wrong = run(with_policy)
        total = sum(outcomes.values())
        print(f"== {'启用' if with_policy else '关闭'}「只在意图明确时执行」策略：{total} 条消息")
        for key in ("recorded", "recorded_wrong", "asked", "answered", "exception"):
            print(f"  {key:15s} {outcomes[key]:4d}  ({outcomes[key] / total:.1%})")
        labels = sorted({label for label, _ in by_label})
        for label in labels:
            row = {o: by_label[(label, o)] for o in ("recorded", "recorded_wrong", "asked", "answered")}
            print(f"  标注 {label:9s} " + "  ".join(f"{k}={v}" for k, v in row.items()))
        print(f"  错误执行（记录了标注之外的东西）：{wrong} 条")


if __name__ == "__main__":
    main()
