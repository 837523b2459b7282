"""Binding, progress reports, photos in chat and brand status, through the dispatcher."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import count

import pytest
from sqlalchemy import func, select

from handlers.actor import Actor
from handlers.context import Context
from handlers.dispatch import handle
from handlers.inbound import Inbound
from handlers.programme import operations as ops
from handlers.programme.binding import (
    MAX_FAILED_ATTEMPTS,
    create_invitation,
    hash_card,
    member_card_salt,
    set_member_salt,
)
from handlers.programme.evidence import round_photos, round_reports
from handlers.programme.gates import LifecycleError
from handlers.programme.recognition_hook import RecognitionInfo
from models import Brand, Role, Stage, utcnow
from models.programme import (
    BindAttempt,
    Decision,
    Invitation,
    MemberCard,
    Photo,
    PhotoStatus,
    ProgressReport,
    Standard,
)
from tests.factories import make_brand, make_ctx, make_union
from tests.factories_programme import make_cadre, make_report, recognition_provider

_ids = count(1)


@pytest.fixture(autouse=True)
def _salt() -> None:
    set_member_salt(member_card_salt("test-secret-key-0123456789"))


def say(ctx: Context, text: str) -> str:
    inbound = Inbound(
        openid=ctx.user.openid, kind="text", created_at=ctx.now, msg_id=str(next(_ids)), content=text
    )
    return handle(ctx, inbound).text or ""


def photo(ctx: Context, media_id: str | None = None) -> str:
    media = media_id or f"media-{next(_ids)}"
    inbound = Inbound(
        openid=ctx.user.openid, kind="image", created_at=ctx.now, msg_id=str(next(_ids)), media_id=media
    )
    return handle(ctx, inbound).text or ""


# --- binding --------------------------------------------------------------------------------


def test_invitation_makes_a_cadre_once(session) -> None:
    union = make_union(session, name="甲市总工会")
    make_brand(session, union=union, name="工惠乐学")
    _, code = create_invitation(session, union.code, utcnow())
    ctx = make_ctx(session)
    assert "绑定成功" in say(ctx, f"绑定 {code}")
    assert ctx.user.role == Role.CADRE and ctx.user.union_id == union.id and ctx.user.union_source == "invite"
    assert "无需重复绑定" in say(ctx, f"绑定 {code.lower()}")
    other = make_ctx(session)
    assert "已被使用" in say(other, f"绑定 {code}")
    assert other.user.role == Role.WORKER


def test_invitation_reply_names_the_brands(session) -> None:
    union = make_union(session, name="甲市总工会")
    make_brand(session, union=union, name="工惠乐学")
    _, code = create_invitation(session, union.code, utcnow())
    reply = say(make_ctx(session), f"邀请码：{code}")
    assert "「甲市总工会」的工会干部" in reply and "「工惠乐学」" in reply


def test_expired_invitation(session) -> None:
    union = make_union(session)
    _, code = create_invitation(session, union.code, utcnow() - timedelta(days=7, seconds=1))
    ctx = make_ctx(session)
    assert "已过期" in say(ctx, f"绑定 {code}")
    assert ctx.user.role == Role.WORKER
    assert session.scalar(select(Invitation.used_at)) is None


def test_failed_attempts_are_rate_limited_in_the_database(session) -> None:
    union = make_union(session)
    _, code = create_invitation(session, union.code, utcnow())
    ctx = make_ctx(session)
    for _ in range(MAX_FAILED_ATTEMPTS):
        assert "不正确" in say(ctx, "绑定 ZZZZ2222")
    assert "尝试次数过多" in say(ctx, f"绑定 {code}")  # even the right code waits
    assert ctx.user.role == Role.WORKER
    later = make_ctx(session, user=ctx.user, now=utcnow() + timedelta(hours=1, minutes=1))
    assert "绑定成功" in say(later, f"绑定 {code}")
    assert session.scalar(select(func.count(BindAttempt.id))) == MAX_FAILED_ATTEMPTS


def test_bind_without_a_value_explains(session) -> None:
    assert "邀请码或会员卡号" in say(make_ctx(session), "绑定")


def test_member_card_binding(session) -> None:
    union = make_union(session, name="某厂工会")
    session.add(MemberCard(card_hash=hash_card("62220001"), union_id=union.id))
    session.flush()
    ctx = make_ctx(session)
    assert "验证成功" in say(ctx, "绑定 会员卡号 6222 0001")
    assert ctx.user.union_id == union.id and ctx.user.union_source == "member"
    assert ctx.user.role == Role.WORKER
    assert "无需重复绑定" in say(ctx, "绑定 会员卡号 62220001")
    other = make_ctx(session)
    assert "已被其他微信号绑定" in say(other, "绑定 会员卡号 62220001")
    assert "未找到" in say(other, "绑定 会员卡号 99999999")
    assert session.scalar(select(func.count(BindAttempt.id)).where(BindAttempt.user_id == other.user.id)) == 2


def test_an_eight_digit_card_without_the_word_still_binds(session) -> None:
    union = make_union(session)
    session.add(MemberCard(card_hash=hash_card("62220009"), union_id=union.id))
    session.flush()
    ctx = make_ctx(session)
    assert "验证成功" in say(ctx, "绑定 62220009")


# --- progress -------------------------------------------------------------------------------


def cadre_ctx(session, n_brands: int = 1) -> tuple[Context, list[Brand]]:
    union = make_union(session)
    brands = [make_brand(session, union=union, name=n) for n in ["工惠乐学", "查保促", "职工之家"][:n_brands]]
    user = make_cadre(session, union)
    return make_ctx(session, user=user), brands


def test_worker_cannot_report(session) -> None:
    make_brand(session, name="工惠乐学")
    assert "仅限工会干部" in say(make_ctx(session), "上报进度 工惠乐学 本月开展培训12场")


def test_progress_report_strips_command_and_brand(session) -> None:
    ctx, [brand] = cadre_ctx(session)
    reply = say(ctx, "上报进度 工惠乐学：本月开展培训12场，参与职工600人次")
    assert "已记录「工惠乐学」的进度" in reply
    report = session.scalar(select(ProgressReport))
    assert report.text == "本月开展培训12场，参与职工600人次" and report.brand_id == brand.id
    assert report.author_id == ctx.user.id


def test_single_brand_cadre_need_not_name_it(session) -> None:
    ctx, _ = cadre_ctx(session)
    assert "已记录「工惠乐学」" in say(ctx, "上报 本周走访企业5家")
    assert session.scalar(select(ProgressReport.text)) == "本周走访企业5家"


def test_cadre_with_several_brands_is_asked_which(session) -> None:
    ctx, brands = cadre_ctx(session, 3)
    reply = say(ctx, "上报进度 本月开展培训12场")
    assert "1. 工惠乐学" in reply and "3. 职工之家" in reply
    assert "没有找到对应的品牌" in say(ctx, "第九个")
    assert "已记录「查保促」" in say(ctx, "2")
    report = session.scalar(select(ProgressReport))
    assert report.brand_id == brands[1].id and report.text == "本月开展培训12场"


def test_cannot_report_on_another_unions_brand(session) -> None:
    ctx, _ = cadre_ctx(session)
    make_brand(session, name="别人的品牌")
    ctx = make_ctx(session, user=ctx.user)  # router that knows the new brand
    assert "不是您所在工会的品牌" in say(ctx, "上报进度 别人的品牌 开展活动")
    assert session.scalar(select(func.count(ProgressReport.id))) == 0


def test_empty_report_asks_for_content(session) -> None:
    ctx, _ = cadre_ctx(session)
    assert "请发送进度内容" in say(ctx, "上报进度 工惠乐学")


# --- photos ---------------------------------------------------------------------------------


def test_photos_after_a_report_are_attached_and_downloaded(session) -> None:
    ctx, [brand] = cadre_ctx(session)
    say(ctx, "上报进度 工惠乐学 本月开展培训12场")
    assert "第 1 张" in photo(ctx, "m-1")
    assert "第 2 张" in photo(ctx, "m-2")
    assert "第 2 张" in photo(ctx, "m-2")  # WeChat's retry of the same media: counted once
    report = session.scalar(select(ProgressReport))
    photos = session.scalars(select(Photo).order_by(Photo.id)).all()
    assert [(p.media_id, p.brand_id, p.report_id, p.status) for p in photos] == [
        ("m-1", brand.id, report.id, PhotoStatus.PENDING),
        ("m-2", brand.id, report.id, PhotoStatus.PENDING),
    ]
    assert photos[0].uploader_id == ctx.user.id and photos[0].captured_at == ctx.now
    assert [(j.name, j.kwargs) for j in ctx.jobs] == [("download_photo", {"photo_id": p.id}) for p in photos]


def test_text_during_photo_window_is_routed_normally(session) -> None:
    ctx, _ = cadre_ctx(session)
    say(ctx, "上报进度 工惠乐学 本月开展培训12场")
    assert "阶段：" in say(ctx, "查询 工惠乐学")


def test_photo_without_report_asks_brand_then_activity(session) -> None:
    ctx, brands = cadre_ctx(session, 2)
    assert "这是哪个品牌的活动" in photo(ctx)
    assert "已收到 2 张照片" in photo(ctx)
    assert "收到「查保促」的照片" in say(ctx, "查保促")
    assert "已收到 3 张照片" in photo(ctx)
    assert "已保存 3 张照片到「查保促」" in say(ctx, "11月安全生产检查")
    photos = session.scalars(select(Photo)).all()
    assert {(p.brand_id, p.activity, p.report_id) for p in photos} == {
        (brands[1].id, "11月安全生产检查", None)
    }
    assert len(ctx.jobs) == 3


def test_single_brand_photo_asks_only_activity(session) -> None:
    ctx, _ = cadre_ctx(session)
    assert "收到「工惠乐学」的照片" in photo(ctx)
    assert "已保存 1 张照片" in say(ctx, "读书分享会")


def test_cancel_leaves_the_photo_flow(session) -> None:
    ctx, _ = cadre_ctx(session, 2)
    photo(ctx)
    assert "已退出" in say(ctx, "取消")
    assert ctx.conversation() is None


def test_worker_photo_is_not_kept(session) -> None:
    ctx = make_ctx(session)
    assert "本号不保存职工发送的图片" in photo(ctx)
    assert session.scalar(select(func.count(Photo.id))) == 0
    assert ctx.jobs == []


# --- status ---------------------------------------------------------------------------------


def test_status_for_anyone(session) -> None:
    union = make_union(session, name="甲市总工会")
    brand = make_brand(session, union=union, name="工惠乐学", aliases=("乐学",), stage=Stage.CULTIVATING)
    ctx = make_ctx(session)
    reply = say(ctx, "查询 工惠乐学")
    assert reply.splitlines() == [
        "【工惠乐学】甲市总工会",
        "阶段：培育创建（第 3 步，共 5 步）",
        "最近进度：暂无上报",
        "社会认可度：暂无数据",
    ]
    make_report(session, brand, "本月开展培训12场，参与职工600人次", at=utcnow().replace(hour=17, minute=0))
    with recognition_provider(lambda s, b: RecognitionInfo(score=81.5, rank=3, out_of=20)):
        reply = say(ctx, "查询 乐学")
    assert "最近进度：" in reply and "本月开展培训12场" in reply
    assert reply.splitlines()[-1] == "社会认可度：81.5，排名第 3/20"


def test_status_unknown_brand(session) -> None:
    assert "没有找到名为「不存在」" in say(make_ctx(session), "查询 不存在")
    assert "请在「查询」后写上品牌名称" in say(make_ctx(session), "查询")


def test_status_shows_local_date(session) -> None:
    brand = make_brand(session, name="工惠乐学")
    at = utcnow().replace(year=2026, month=3, day=1, hour=17, minute=30)  # 01:30 next day in Shanghai
    make_report(session, brand, "短讯", at=at)
    assert "最近进度：2026-03-02 短讯" in say(make_ctx(session), "查询 工惠乐学")


def test_a_progress_report_during_the_photo_flow_is_filed_not_taken_as_caption(session) -> None:
    ctx, _ = cadre_ctx(session)
    photo(ctx)
    assert "已记录「工惠乐学」的进度" in say(ctx, "上报进度 工惠乐学 本周开展读书会")
    assert session.scalar(select(Photo.activity)) is None


def test_status_with_a_ticket_is_answered_by_the_suggestions_domain(session) -> None:
    reply = say(make_ctx(session), "查询 JY20261121-0001")
    assert "JY20261121-0001" in reply and "工作品牌" not in reply


# --- programme gates through chat (issue 12, part 6) --------------------------------------------

GATE_T0 = datetime(2026, 3, 2, 1, 0, tzinfo=UTC)


def _reviewed_with_continue(session) -> tuple[Context, Brand, int]:
    """A cadre's brand reviewed 继续培育 on day 10, on a report the cadre filed in chat on day 1."""
    ctx, [brand] = cadre_ctx(session)
    ctx.now = GATE_T0 + timedelta(days=1)
    assert "已记录「工惠乐学」的进度" in say(ctx, "上报进度 工惠乐学 本月开展培训12场")
    old = session.scalar(select(ProgressReport.id))
    cited = {s.value: {"score": 80, "reports": [old]} for s in Standard}
    ops.self_evaluate(session, brand, cited, Actor.admin("张三"), GATE_T0 + timedelta(days=2))
    ops.advance(session, brand, Stage.REVIEWING, Actor.admin("张三"), "申请评议", GATE_T0 + timedelta(days=3))
    four = {k: v for k, v in cited.items() if k != Standard.RECOGNITION.value}
    ops.review(
        session, brand, Decision.CONTINUE, "载体不足", four, Actor.admin("上级"), GATE_T0 + timedelta(days=10)
    )
    return ctx, brand, old


def test_a_chat_report_from_before_the_review_does_not_open_the_new_round(session) -> None:
    ctx, brand, _ = _reviewed_with_continue(session)
    assert round_reports(session, brand) == []
    ctx.now = GATE_T0 + timedelta(days=11)
    status = say(ctx, "查询 工惠乐学")
    assert "上次评议：继续培育" in status and "须上报新进度并重新自评后才能再次送评" in status
    with pytest.raises(LifecycleError, match="上次评议之后的新进度上报"):
        ops.advance(session, brand, Stage.REVIEWING, Actor.admin("张三"), "再次申请", ctx.now)


def test_a_chat_report_and_photo_after_continue_are_the_new_rounds_evidence(session) -> None:
    ctx, brand, old = _reviewed_with_continue(session)
    ctx.now = GATE_T0 + timedelta(days=12)
    assert "已记录「工惠乐学」的进度" in say(ctx, "上报进度 工惠乐学 新建职工书屋3处")
    assert "第 1 张" in photo(ctx)
    new = session.scalars(select(ProgressReport.id).order_by(ProgressReport.id)).all()[-1]
    snap = session.scalar(select(Photo).order_by(Photo.id.desc()))
    assert round_reports(session, brand) == [new]
    assert "本轮尚无新的进度上报" not in say(ctx, "查询 工惠乐学")
    # A photo counts once stored (checked against earlier photos), not while it downloads.
    assert round_photos(session, brand) == []
    snap.status = PhotoStatus.STORED
    session.flush()
    assert round_photos(session, brand) == [snap.id]
    with pytest.raises(LifecycleError, match="本轮可引用"):
        ops.self_evaluate(
            session,
            brand,
            {s.value: {"score": 85, "reports": [old]} for s in Standard},
            Actor.admin("张三"),
            ctx.now,
        )
    # The photo from chat alone is enough evidence for the new self-evaluation.
    cited = {s.value: {"score": 85, "photos": [snap.id]} for s in Standard}
    ops.self_evaluate(session, brand, cited, Actor.admin("张三"), ctx.now + timedelta(hours=3))
    ops.advance(
        session, brand, Stage.REVIEWING, Actor.admin("张三"), "再次申请", ctx.now + timedelta(hours=4)
    )
    assert brand.stage == Stage.REVIEWING
