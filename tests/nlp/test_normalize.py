from __future__ import annotations

import pytest

from nlp.normalize import chinese_to_int, clean, numerals_to_digits, protected_pattern

EMOJI = frozenset({"微笑", "强"})


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ＪＹ２０２６１１２１－００４２", "JY20261121-0042"),  # full-width letters, digits, dash
        ("投３号！", "投3号!"),
        ("我想給工惠樂學投票", "我想给工惠乐学投票"),  # traditional → simplified
        ("建議食堂增加麵食", "建议食堂增加面食"),
        ("工惠乐学加油💪👍🏻", "工惠乐学加油 赞"),  # emoji dropped, thumbs-up kept as 赞
        ("工惠乐学 [强][强]", "工惠乐学"),  # WeChat emoticon codes
        ("[微笑]/::)好的", "好的"),
        ("[建议]食堂", "[建议]食堂"),  # brackets that are not emoticons stay
        ("工惠乐学★★★★☆", "工惠乐学 4星"),  # star rows are ratings
        ("  投票   给  乐学 ", "投票 给 乐学"),
        ("👨‍👩‍👧", ""),  # zero-width joiners and all
    ],
)
def test_clean(raw: str, expected: str) -> None:
    assert clean(raw, EMOJI) == expected


@pytest.mark.parametrize(
    ("run", "value"),
    [
        ("三", 3),
        ("十", 10),
        ("十二", 12),
        ("二十", 20),
        ("二十一", 21),
        ("一百零五", 105),
        ("一一三八", 1138),
        ("两", 2),
    ],
)
def test_chinese_to_int(run: str, value: int) -> None:
    assert chinese_to_int(run) == value


PROTECTED = protected_pattern(["一般", "十分", "一下", "七种模式"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("投三号", "投3号"),
        ("我选第五个", "我选第5个"),
        ("四星", "4星"),
        ("三", "3"),
        ("给乐学打五分", "给乐学打5分"),
        ("二十一号", "21号"),
        ("干了三年", "干了3年"),
        ("一般", "一般"),  # a rating word, not "1般"
        ("十分满意", "十分满意"),  # "very", not "10 points"
        ("七种模式很好", "七种模式很好"),  # brand names are protected
        ("看一下", "看一下"),
        ("三心二意", "三心二意"),  # no counter: left alone
    ],
)
def test_numerals_to_digits(text: str, expected: str) -> None:
    assert numerals_to_digits(text, PROTECTED) == expected
