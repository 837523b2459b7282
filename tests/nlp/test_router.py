"""Table-driven router tests: real messages as workers and cadres type them."""

from __future__ import annotations

import pytest

from nlp import BrandEntry, Intent, Router
from nlp.cli import route_candidate
from nlp.intent import MY_SUGGESTIONS


def check(intent: Intent, expected: dict[str, object]) -> None:
    got = {key: getattr(intent, key) for key in expected}
    assert got == expected, intent


# (message, expected fields): only the fields listed are checked.
CASES: list[tuple[str, dict[str, object]]] = [
    # vote
    (
        "投票给工惠乐学",
        {"name": "vote", "brand": "工惠乐学", "score": None, "number": None},
    ),
    ("投3号", {"name": "vote", "number": 3, "brand": None}),
    ("投三号", {"name": "vote", "number": 3}),
    ("我投第九个", {"name": "vote", "number": 9}),
    ("工惠乐学 5分", {"name": "vote", "brand": "工惠乐学", "score": 5}),
    ("给工惠乐学打五分", {"name": "vote", "brand": "工惠乐学", "score": 5}),
    ("工惠乐学四颗星", {"name": "vote", "score": 4}),
    ("工惠乐学★★★★★", {"name": "vote", "score": 5}),
    ("对工惠乐学很满意", {"name": "vote", "brand": "工惠乐学", "score": 5}),
    ("查保促非常不满意", {"name": "vote", "brand": "查保促", "score": 1}),
    ("查保促一般", {"name": "vote", "brand": "查保促", "score": 3}),
    ("四季服务比较满意", {"name": "vote", "brand": "四季服务", "score": 4}),
    ("给妈妈小屋点赞👍", {"name": "vote", "brand": "爱心妈妈小屋"}),
    ("給工惠樂學點贊", {"name": "vote", "brand": "工惠乐学"}),
    ("8号5分", {"name": "vote", "number": 8, "score": 5}),
    ("给工惠乐学打10分", {"name": "vote", "brand": "工惠乐学", "score": None}),  # off the 1–5 scale
    # trap: a brand with a number in its name is not a candidate number
    ("支持1138工程", {"name": "vote", "brand": "1138工程", "number": None}),
    ("1138工程打5分", {"name": "vote", "brand": "1138工程", "number": None, "score": 5}),
    ("一一三八工程四分", {"name": "vote", "brand": "1138工程", "score": 4}),  # digits as voice writes them
    ("幺幺三八工程怎么样了", {"name": "status", "brand": "1138工程"}),
    ("投七种模式", {"name": "vote", "brand": "七种模式", "number": None}),
    ("第一主席非常满意", {"name": "vote", "brand": "第一主席", "number": None, "score": 5}),
    # trap: 投一票 is not "number 1"
    ("给金蓝领投一票", {"name": "vote", "brand": "金蓝领培训", "number": None}),
    # voice homophones: resolved by sound, asked back
    ("投票给工会乐学", {"name": "vote", "brand": "工惠乐学"}),
    ("支持公会乐学", {"name": "vote", "brand": "工惠乐学"}),
    ("支持幸福亦站", {"name": "vote", "brand": "幸福驿站", "confidence": 0.8}),  # by sound
    ("奇鲁工匠投一票", {"name": "vote", "brand": "齐鲁工匠", "confidence": 0.85}),  # partial: 鲁工匠
    # list
    ("候选品牌有哪些", {"name": "list"}),
    ("有什么品牌可以投", {"name": "list"}),
    ("候選品牌", {"name": "list"}),
    # status
    ("麻烦问一下，查保促进度怎么样了？谢谢", {"name": "status", "brand": "查保促", "text": None}),
    ("查保促进度", {"name": "status", "brand": "查保促"}),  # 查保促 stays one token: not 查/保/促进
    ("工惠乐学到哪一步了", {"name": "status", "brand": "工惠乐学"}),
    ("jy 20261121 0042 处理了吗", {"name": "status", "ticket": "JY20261121-0042"}),
    ("ＪＹ２０２６１１０３－０００７", {"name": "status", "ticket": "JY20261103-0007"}),
    ("工单号jy20261015—1234", {"name": "status", "ticket": "JY20261015-1234"}),
    ("我的建议", {"name": "status", "text": MY_SUGGESTIONS, "ticket": None}),
    ("我上次反映的问题处理了吗", {"name": "status", "text": MY_SUGGESTIONS}),
    ("查询", {"name": "status", "brand": None, "ticket": None, "text": None}),
    # suggest — traps: a suggestion that names a brand, 投诉 is not 投, numbers in complaints
    ("建议工惠乐学多开电工课", {"name": "suggest", "brand": "工惠乐学", "text": "工惠乐学多开电工课"}),
    ("建议：食堂增加夜班餐", {"name": "suggest", "text": "食堂增加夜班餐", "anonymous": False}),
    (
        "我要投诉食堂饭菜太差，干了3年了从没改善",
        {"name": "suggest", "number": None, "score": None, "text": "食堂饭菜太差，干了3年了从没改善"},
    ),
    ("投诉3号车间主任", {"name": "suggest", "number": None}),
    ("匿名建议：车间太热了", {"name": "suggest", "anonymous": True, "text": "车间太热了"}),
    ("建议更衣室装个空调（匿名）", {"name": "suggest", "anonymous": True, "text": "更衣室装个空调"}),
    ("建议不用匿名，我叫王强，希望修车棚", {"name": "suggest", "anonymous": False}),
    ("给查保促提个建议：多去小厂", {"name": "suggest", "brand": "查保促", "text": "多去小厂"}),
    ("食堂饭菜很不满意，又贵又难吃", {"name": "suggest", "score": None}),
    ("职工书屋开放时间太短了", {"name": "suggest", "brand": "职工书屋"}),
    ("幸福驿站太好了", {"name": "vote", "brand": "幸福驿站"}),  # praise, not a complaint
    ("提建议", {"name": "suggest", "text": None}),
    ("建议多组织快乐学习活动", {"name": "suggest", "brand": None}),  # 快乐/学习, not 乐学
    # survey
    ("我要填问卷", {"name": "survey"}),
    ("參加問卷調查", {"name": "survey"}),
    # progress
    (
        "上报进度 工惠乐学 本周开展电工培训两期",
        {"name": "progress", "brand": "工惠乐学", "text": "本周开展电工培训两期"},
    ),
    (
        "汇报一下查保促本月工作，排查隐患36处",
        {"name": "progress", "brand": "查保促", "text": "本月工作，排查隐患36处"},
    ),
    ("发活动照片", {"name": "progress", "text": None}),
    # bind: the code goes in text
    ("绑定 AB12CD", {"name": "bind", "text": "AB12CD"}),
    ("绑定会员卡 123456", {"name": "bind", "text": "123456"}),
    ("绑定 会员卡号 6222 0001", {"name": "bind", "text": "62220001"}),
    ("绑定 AB12CD 谢谢", {"name": "bind", "text": "AB12CD"}),
    ("邀请码：x7k9p2", {"name": "bind", "text": "X7K9P2"}),
    ("绑定ｘ７ｋ９ｐ２", {"name": "bind", "text": "X7K9P2"}),
    ("我的会员卡号是2026001234", {"name": "bind", "text": "2026001234"}),
    ("我要绑定", {"name": "bind", "text": None}),
    # help
    ("你好", {"name": "help"}),
    ("您好😊", {"name": "help"}),
    ("这个公众号怎么用", {"name": "help"}),
    ("?", {"name": "help"}),
    # cancel — trap: 不投了 is cancel, not vote
    ("不投了", {"name": "cancel"}),
    ("我不想投票了", {"name": "cancel"}),
    ("算了不弄了", {"name": "cancel"}),
    ("不绑定了", {"name": "cancel"}),
    # trap: 取消 inside a longer message is a suggestion (it must not break out of a flow)
    ("建议取消加班制度", {"name": "suggest", "text": "取消加班制度"}),
    ("希望取消早上的打卡", {"name": "suggest"}),
    # unknown
    ("今天天气不错", {"name": "unknown"}),
    ("123", {"name": "unknown", "number": None}),  # a lone number above 99 is not a candidate
    ("。。。", {"name": "unknown"}),
    ("😂😂😂", {"name": "unknown"}),
    ("", {"name": "unknown"}),
    ("菜鸟驿站的快递到了吗", {"name": "unknown", "brand": None}),
    # common words that end a brand name or alias are not that brand
    ("公司发展怎么样了", {"brand": None}),
    ("培训什么时候开始", {"brand": None}),
]


@pytest.mark.parametrize(("message", "expected"), CASES, ids=[c[0] or "<empty>" for c in CASES])
def test_route(router: Router, message: str, expected: dict[str, object]) -> None:
    check(router.route(message), expected)


def test_bare_brand_is_a_vote_to_confirm(router: Router) -> None:
    intent = router.route("工惠乐学")
    assert (intent.name, intent.brand) == ("vote", "工惠乐学")
    assert intent.confidence < 1  # the bot asks "您是想给『工惠乐学』投票吗？"
    assert intent.suggestions == ("vote", "status")


def test_bare_number_is_a_vote_to_confirm(router: Router) -> None:
    intent = router.route("3")
    assert (intent.name, intent.number) == ("vote", 3)
    assert intent.confidence < 1


def test_unknown_suggests_closest_intents(router: Router) -> None:
    assert router.route("今天天气不错").suggestions  # never empty: "您是不是想：…"
    intent = router.route("我要投诉一下")
    assert intent.name == "suggest"


def test_tie_lowers_confidence(router: Router) -> None:
    intent = router.route("取消绑定")
    assert intent.confidence < 1
    assert set(intent.suggestions) == {"cancel", "bind"}


def test_two_brands_in_a_vote_ask_back(router: Router) -> None:
    intent = router.route("投票给爱心妈妈小屋和幸福驿站")
    assert (intent.name, intent.brand) == ("vote", "爱心妈妈小屋")
    assert intent.confidence < 1


def test_candidate_number_resolves_against_brand_list(router: Router) -> None:
    intent = route_candidate(router, "投8号")
    assert (intent.brand, intent.number) == ("工惠乐学", 8)
    assert route_candidate(router, "投99号").brand is None


def test_without_catalogue() -> None:
    router = Router([])
    assert router.route("投票给工惠乐学").name == "vote"
    assert router.route("投票给工惠乐学").brand is None
    assert router.route("工惠乐学").name == "unknown"


def test_new_brand_is_a_token_after_rebuild() -> None:
    before = Router([BrandEntry("工惠乐学")])
    assert before.route("投票给蓝领驿家").brand is None
    after = Router([BrandEntry("工惠乐学"), BrandEntry("蓝领驿家", ("驿家",))])
    assert after.route("投票给蓝领驿家").brand == "蓝领驿家"
    assert after.route("驿家怎么样了").name == "status"


def test_alias_shared_by_two_brands_names_neither() -> None:
    router = Router([BrandEntry("职工书屋", ("书屋",)), BrandEntry("农民工书屋", ("书屋",))])
    assert router.route("投票给书屋").brand is None
    assert router.route("投票给职工书屋").brand == "职工书屋"


def test_brand_name_beats_another_brands_alias() -> None:
    router = Router([BrandEntry("查保促"), BrandEntry("化工安全查保促专项行动", ("查保促",))])
    assert router.route("投查保促").brand == "查保促"
    assert router.route("投化工安全查保促专项行动").brand == "化工安全查保促专项行动"


def test_json_has_exactly_the_documented_keys(router: Router) -> None:
    assert list(router.route("投3号").as_json()) == [
        "intent",
        "brand",
        "number",
        "score",
        "ticket",
        "text",
        "anonymous",
    ]
