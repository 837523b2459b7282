from __future__ import annotations

import pytest

from config.suggestions import default_config as config
from nlp.keywords import categorise, top_keywords


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("车间主任拖欠加班费，三个月没发工资", "薪酬"),
        ("厂区消防通道被堵，有安全隐患", "安全生产"),
        ("夏天高温作业没有防暑用品，劳保用品也不够", "劳动保护"),
        ("食堂菜品太少，希望增加午餐品种", "职工福利"),
        ("希望多组织技能培训和考证课程", "培训"),
        ("建议举办职工篮球比赛", "文体活动"),
        ("厂里没有母婴室，哺乳期女职工很不方便", "女职工"),
        ("同事家里有人得了大病，生活困难，希望工会帮扶", "困难帮扶"),
        ("停车场的灯坏了", "其他"),
    ],
)
def test_categorise(text: str, category: str) -> None:
    best, scores = categorise(text, config().categories)
    assert best == category, scores


def test_ties_go_to_the_first_listed() -> None:
    assert categorise("甲乙", {"A": {"甲": 1}, "B": {"乙": 1}})[0] == "A"


def test_top_keywords_counts_each_text_once() -> None:
    result = top_keywords(["食堂食堂食堂", "希望食堂改善", "培训"], 2)
    assert result[0] == ("食堂", 2)
    assert all(w not in ("希望",) for w, _ in result)
