"""The labelling conventions (docs/zh/router.md) as routing tests, and the fixes that came with them."""

from __future__ import annotations

import pytest

from nlp import Intent, Router
from nlp.intent import MY_SUGGESTIONS
from nlp.lexicon import load_lexicon
from nlp.normalize import numerals_to_digits, padding_pattern, protected_pattern, strip_padding
from nlp.router import _word_boundaries, policy_act


def check(intent: Intent, expected: dict[str, object]) -> None:
    got = {key: getattr(intent, key) for key in expected}
    assert got == expected, intent


CONVENTIONS: list[tuple[str, dict[str, object]]] = [
    # a 1–5 rating of a brand is a vote with a score
    ("工惠乐学打4分", {"name": "vote", "brand": "工惠乐学", "score": 4}),
    ("对幸福驿站很满意", {"name": "vote", "brand": "幸福驿站", "score": 5}),
    # a question about a brand's recognition or rank is status, never a vote
    ("工惠乐学的社会认可度怎么样", {"name": "status", "brand": "工惠乐学", "score": None}),
    ("查保促排第几", {"name": "status", "brand": "查保促", "number": None}),
    # complaints are suggestions, even with 满意/不满意 or no complaint word at all
    ("对食堂很不满意，菜里有头发", {"name": "suggest", "score": None, "brand": None}),
    ("我们车间的加班费一直没给，这咋整", {"name": "suggest"}),
    # 满意度 is not 满意; tests and questionnaires are surveys
    ("满意度", {"name": "survey", "score": None}),
    ("参加测评", {"name": "survey"}),
    ("我要参加满意度调查", {"name": "survey"}),
    ("填问卷", {"name": "survey"}),
    # what can be voted for
    ("能投的都有哪些", {"name": "list"}),
    # status questions without 进度
    ("工惠乐学现在啥情况", {"name": "status", "brand": "工惠乐学"}),
    ("幸福驿站建成了吗", {"name": "status", "brand": "幸福驿站"}),
    # follow-ups on one's own complaint without 我的
    ("上回反映那事有下文没", {"name": "status", "text": MY_SUGGESTIONS, "brand": None}),
    # anonymity without 匿名; "我不想匿名" is not anonymous
    ("食堂的菜太贵了，别写我名字", {"name": "suggest", "anonymous": True}),
    ("班长克扣奖金，不想让人知道是我", {"name": "suggest", "anonymous": True}),
    ("宿舍三天没热水了，我不想匿名，我叫王强", {"name": "suggest", "anonymous": False}),
    # corrections: the number or brand after the correction
    ("不是3号，我要投8号", {"name": "vote", "number": 8}),
    ("不投查保促了，改投幸福驿站", {"name": "vote", "brand": "幸福驿站"}),
    # spoken numbers
    ("投十一号", {"name": "vote", "number": 11}),
    ("二十一号", {"name": "vote", "number": 21}),
    # greetings
    ("你们好", {"name": "help"}),
]


@pytest.mark.parametrize(("message", "expected"), CONVENTIONS, ids=[c[0] for c in CONVENTIONS])
def test_convention(router: Router, message: str, expected: dict[str, object]) -> None:
    check(router.route(message), expected)


def test_politeness_stripping_keeps_whole_words(router: Router) -> None:
    intent = router.route("宿舍楼道的灯坏了半个月了，希望工会过问一下")
    assert intent.name == "suggest"
    assert intent.text == "宿舍楼道的灯坏了半个月了，希望工会过问一下"
    # real padding at either end still goes
    assert router.route("麻烦问一下，宿舍楼道的灯坏了，谢谢").text == "宿舍楼道的灯坏了"


def test_padding_is_stripped_only_on_word_boundaries() -> None:
    pattern = padding_pattern(load_lexicon().padding)
    assert strip_padding("希望工会过问一下", pattern, _word_boundaries) == "希望工会过问一下"
    assert strip_padding("请问一下，工惠乐学到哪一步了", pattern, _word_boundaries) == "工惠乐学到哪一步了"


def test_protected_numerals_still_count_as_candidate_numbers() -> None:
    protected = protected_pattern(load_lexicon().numeral_words)
    assert numerals_to_digits("投十一号", protected) == "投11号"
    assert numerals_to_digits("二十一号", protected) == "21号"
    assert numerals_to_digits("第十一个", protected) == "第11个"
    assert numerals_to_digits("十一放几天假", protected) == "十一放几天假"  # the holiday stays
    assert numerals_to_digits("十分满意", protected) == "十分满意"


def test_greeting_stays_one_token() -> None:
    from nlp import segment

    assert "你们好" in segment.cut("你们好")


def test_confidence_and_alternatives(router: Router) -> None:
    sure = router.route("投票给工惠乐学")
    assert sure.confidence >= policy_act()  # clear: acts without asking
    assert 1 <= len(sure.alternatives) <= 3 and sure.name not in sure.alternatives
    unknown = router.route("今天天气不错")
    assert unknown.name == "unknown" and unknown.suggestions and "unknown" not in unknown.suggestions


@pytest.mark.parametrize(
    "message",
    [
        "三次送达",
        "慢消息",
        "我家猫生了三只小猫",
        "这个月电费两百多",
        "外卖到了放门口",
        "第二条消息",
        "奶茶买一送一",
    ],
)
def test_everyday_chat_is_never_acted_on(router: Router, message: str) -> None:
    # An unseen message must not become a vote or a suggestion the bot records without asking.
    intent = router.route(message)
    assert not (
        intent.name in ("vote", "suggest", "bind", "progress") and intent.confidence >= policy_act()
    ), intent


@pytest.mark.parametrize(
    ("message", "expected"),
    [
        ("投票１２", {"name": "vote", "number": 12}),
        ("我反映的食堂问题有结果没", {"name": "status", "text": MY_SUGGESTIONS}),
        ("俺上礼拜反映的事咋还没人回", {"name": "status", "text": MY_SUGGESTIONS}),
        ("别公开我的信息啊，宿舍楼消防通道被堵了", {"name": "suggest", "anonymous": True}),
        ("这事别说是我反映的啊，仓库主管经常让我们周日义务加班", {"name": "suggest", "anonymous": True}),
        ("评议 py3c371ee8", {"name": "bind", "text": "PY3C371EE8"}),
    ],
)
def test_argument_phrasings(router: Router, message: str, expected: dict[str, object]) -> None:
    check(router.route(message), expected)
