from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nlp import segment
from nlp.lexicon import CONFIG_DIR, LexiconError, load_lexicon


def test_tables_load_and_cover_every_intent() -> None:
    lexicon = load_lexicon()
    assert set(lexicon.intents) == {
        "vote",
        "list",
        "status",
        "suggest",
        "survey",
        "progress",
        "bind",
        "help",
        "cancel",
    }
    assert all(table.keywords for table in lexicon.intents.values())


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "router"
    shutil.copytree(CONFIG_DIR, target)
    return target


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("      投票: 4\n", "      投票: 很多\n", "权重应为数字"),
        ("      投个票: 投票\n", "      投个票: 选票\n", "不是关键词"),
        ("  list:\n", "  lists:\n", "意图「lists」不存在"),
        ("      '票数|得票': 3\n", "      '票数|(得票': 3\n", "正则"),
    ],
)
def test_bad_table_is_named(tmp_path: Path, old: str, new: str, message: str) -> None:
    directory = _copy(tmp_path)
    path = directory / "intents.yaml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    with pytest.raises(LexiconError, match=message):
        load_lexicon(directory)


def test_keywords_are_single_tokens() -> None:
    segment.warm_up()
    assert "投诉" in segment.cut("我要投诉")
    assert "不投了" in segment.cut("我不投了")
    segment.add_brand_words(["查保促", "1138工程"])
    assert "查保促" in segment.cut("查保促进度")
    assert "1138工程" in segment.cut("支持1138工程")


def test_jieba_cache_is_outside_the_repository() -> None:
    tokenizer = segment.warm_up()
    from config.settings import PROJECT_ROOT

    assert tokenizer.tmp_dir is not None
    assert not Path(tokenizer.tmp_dir).resolve().is_relative_to(PROJECT_ROOT)
