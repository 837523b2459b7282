"""The router's data: keyword tables, synonyms and word lists from ``config/router/``.

Loaded once per process (``load_lexicon`` is cached); a bad table fails loudly at start-up, naming
the file and entry, rather than mis-routing messages later.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

import config
from nlp.intent import INTENTS

CONFIG_DIR = Path(config.__file__).resolve().parent / "router"


class LexiconError(ValueError):
    """A keyword table is malformed (operator-facing Chinese message)."""


@dataclass(frozen=True)
class IntentTable:
    name: str
    keywords: dict[str, float]
    # variant token → canonical keyword
    synonyms: dict[str, str]
    patterns: tuple[tuple[re.Pattern[str], float], ...]
    # A command that is only itself when short ("取消"); in longer messages it scores less.
    max_chars: int | None = None
    long_factor: float = 1.0


@dataclass(frozen=True)
class Lexicon:
    intents: dict[str, IntentTable]
    priority: tuple[str, ...]
    min_score: float
    ambiguous_ratio: float
    padding: tuple[str, ...]
    greetings: frozenset[str]
    wechat_emoji: frozenset[str]
    scores: tuple[tuple[str, int], ...]  # longest first
    numeral_words: tuple[str, ...]
    generic_brand_parts: frozenset[str]
    strip: dict[str, tuple[re.Pattern[str], ...]]
    userdict: Path

    def all_words(self) -> set[str]:
        """Every keyword and synonym: each must stay one jieba token."""
        words: set[str] = set()
        for table in self.intents.values():
            words.update(table.keywords)
            words.update(table.synonyms)
        words.update(word for word, _ in self.scores)
        return words


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise LexiconError(f"无法读取路由词表 {path}：{exc}") from exc
    if not isinstance(data, dict):
        raise LexiconError(f"路由词表 {path} 格式错误：顶层应为映射。")
    return data


def _compile(path: Path, where: str, pattern: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern)
    except re.error as exc:
        raise LexiconError(f"路由词表 {path} 中 {where} 的正则 {pattern!r} 有误：{exc}") from exc


def _weights(path: Path, where: str, raw: object, *, lower: bool = True) -> dict[str, float]:
    if raw is None:
        return {}
    if not isinstance(raw, dict):
        raise LexiconError(f"路由词表 {path} 中 {where} 应为「词: 权重」映射。")
    out: dict[str, float] = {}
    for key, value in raw.items():
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise LexiconError(f"路由词表 {path} 中 {where}.{key} 的权重应为数字。")
        out[str(key).lower() if lower else str(key)] = float(value)
    return out


def _table(path: Path, name: str, raw: dict[str, Any]) -> IntentTable:
    keywords = _weights(path, f"{name}.keywords", raw.get("keywords"))
    synonyms_raw = raw.get("synonyms") or {}
    if not isinstance(synonyms_raw, dict):
        raise LexiconError(f"路由词表 {path} 中 {name}.synonyms 应为「同义词: 规范词」映射。")
    synonyms: dict[str, str] = {}
    for variant, canonical in synonyms_raw.items():
        canonical = str(canonical).lower()
        if canonical not in keywords:
            raise LexiconError(
                f"路由词表 {path} 中 {name}.synonyms.{variant} 指向的「{canonical}」不是关键词。"
            )
        synonyms[str(variant).lower()] = canonical
    patterns = tuple(
        (_compile(path, f"{name}.patterns", str(p)), w)
        for p, w in _weights(path, f"{name}.patterns", raw.get("patterns"), lower=False).items()
    )
    max_chars = raw.get("max_chars")
    long_factor = raw.get("long_factor", 1.0)
    if max_chars is not None and (not isinstance(max_chars, int) or max_chars < 1):
        raise LexiconError(f"路由词表 {path} 中 {name}.max_chars 应为正整数。")
    if not isinstance(long_factor, int | float) or not 0 <= long_factor <= 1:
        raise LexiconError(f"路由词表 {path} 中 {name}.long_factor 应为 0–1 之间的数。")
    return IntentTable(name, keywords, synonyms, patterns, max_chars, float(long_factor))


def _str_list(path: Path, key: str, raw: object) -> tuple[str, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise LexiconError(f"路由词表 {path} 中 {key} 应为列表。")
    return tuple(str(item) for item in raw)


@lru_cache(maxsize=4)
def load_lexicon(directory: Path = CONFIG_DIR) -> Lexicon:
    intents_path = directory / "intents.yaml"
    lexicon_path = directory / "lexicon.yaml"
    raw = _read_yaml(intents_path)
    raw_intents = raw.get("intents") or {}
    if not isinstance(raw_intents, dict):
        raise LexiconError(f"路由词表 {intents_path} 中 intents 应为映射。")
    intents: dict[str, IntentTable] = {}
    for name, body in raw_intents.items():
        if name not in INTENTS or name == "unknown":
            raise LexiconError(f"路由词表 {intents_path} 中的意图「{name}」不存在。")
        intents[name] = _table(intents_path, name, body or {})
    priority = _str_list(intents_path, "priority", raw.get("priority"))
    missing = set(intents) - set(priority)
    if missing:
        raise LexiconError(f"路由词表 {intents_path} 的 priority 缺少：{'、'.join(sorted(missing))}。")

    lex = _read_yaml(lexicon_path)
    scores = _weights(lexicon_path, "scores", lex.get("scores"))
    for word, score in scores.items():
        if score not in (1, 2, 3, 4, 5):
            raise LexiconError(f"路由词表 {lexicon_path} 中 scores.{word} 应为 1–5。")
    strip_raw = lex.get("strip") or {}
    strip = {
        name: tuple(
            _compile(lexicon_path, f"strip.{name}", p) for p in _str_list(lexicon_path, name, patterns)
        )
        for name, patterns in strip_raw.items()
    }
    return Lexicon(
        intents=intents,
        priority=priority,
        min_score=float(raw.get("min_score", 2.0)),
        ambiguous_ratio=float(raw.get("ambiguous_ratio", 0.8)),
        padding=tuple(sorted(_str_list(lexicon_path, "padding", lex.get("padding")), key=len, reverse=True)),
        greetings=frozenset(g.lower() for g in _str_list(lexicon_path, "greetings", lex.get("greetings"))),
        wechat_emoji=frozenset(_str_list(lexicon_path, "wechat_emoji", lex.get("wechat_emoji"))),
        scores=tuple(sorted(((w, int(s)) for w, s in scores.items()), key=lambda x: -len(x[0]))),
        numeral_words=_str_list(lexicon_path, "numeral_words", lex.get("numeral_words")),
        generic_brand_parts=frozenset(
            _str_list(lexicon_path, "generic_brand_parts", lex.get("generic_brand_parts"))
        ),
        strip=strip,
        userdict=directory / "userdict.txt",
    )
