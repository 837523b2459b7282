"""The router: one message → one Intent, given the current brand catalogue.

Steps (the README explains them for operators):
1. clean: full-width → half-width, traditional → simplified, emoji removed (normalize.clean);
2. pull out a suggestion ticket (JY20261121-0042, however it was typed);
3. strip polite padding (麻烦问一下… 谢谢), cut with jieba (brand names are single tokens);
4. find the brand (exact, alias, partial, sound) and mask it, so 1138工程 is not "number 1138";
5. Chinese numerals → digits, then score every intent: keyword weights over tokens plus phrase
   patterns over the masked text (tables in config/router/intents.yaml);
6. extract the arguments the winning intent needs; say how sure we are.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from nlp import segment
from nlp.brands import BrandIndex, BrandMatch, fuzzy_pinyin
from nlp.intent import MY_SUGGESTIONS, BrandEntry, Intent
from nlp.lexicon import Lexicon, load_lexicon
from nlp.normalize import (
    clean,
    numerals_to_digits,
    padding_pattern,
    protected_pattern,
    strip_padding,
)
from nlp.normalize import warm_up as warm_up_normalize

BRAND_MARK = "Ⓑ"
TICKET_MARK = "Ⓣ"
_SEP = r"[\s\-_—–~.·/]*"
_TICKET = re.compile(rf"jy{_SEP}((?:\d\s*){{7}}\d){_SEP}((?:\d\s*){{3}}\d)(?!\d)")
_SCORE_DIGIT = re.compile(r"(?<![\d.])([1-5])\s*(?:分(?![钟之])|颗?星(?!期))")
_SCORE_OUT_OF_RANGE = re.compile(r"(?<![\d.])(?:[06-9]|\d{2,})\s*(?:分(?![钟之])|颗?星(?!期))")
_NUMBER_PATTERNS = (
    re.compile(r"第?\s*(\d{1,3})\s*号"),
    re.compile(r"第\s*(\d{1,3})\s*个?"),
    re.compile(r"(?:投|选|支持|给|投给)\s*(\d{1,3})(?![\d分星年月天个人岁次票])"),
)
# A lone number is a candidate number only up to 99; "123" is not a vote.
_BARE_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.!]?\s*$")
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
_MINE = re.compile(r"我.{0,4}?(的|提的|提交的|反映的|投诉的|说的)(建议|意见|投诉|问题|事)|我的")
# Card numbers are often typed in groups ("6222 0001"): spaces inside are kept, then dropped.
_BIND_CODE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]| (?=[A-Za-z0-9])){3,40}")
_ANON_NEGATED = re.compile(r"(不|不用|不要|无需|不必|没必要)(要)?匿名")
# Leading punctuation is what remains of a command ("建议：…"); at the end only separators go,
# the worker's own 。！？… stay part of what they wrote.
_EDGE_PUNCT = re.compile(r"^[\s,.!?~、:;。，！？…·\-—_]+|[\s,、:;，\-—_]+$")
_MEANINGFUL = re.compile(r"[0-9a-z\u4e00-\u9fff" + BRAND_MARK + TICKET_MARK + "]")
_DEFAULT_SUGGESTIONS = ("vote", "suggest", "help")
# Confidence when the router guesses: a bare brand name (vote? status?), a bare number, a tie.
_BARE_BRAND_CONFIDENCE = 0.6
_BARE_NUMBER_CONFIDENCE = 0.9
_TIE_CONFIDENCE = 0.7


@dataclass
class Analysis:
    """Everything the router saw (``python -m nlp explain`` prints it)."""

    raw: str
    cleaned: str
    analysed: str = ""
    tokens: list[str] = field(default_factory=list)
    masked: str = ""
    brands: list[BrandMatch] = field(default_factory=list)
    ticket: str | None = None
    scores: dict[str, float] = field(default_factory=dict)


def _ticket(text: str) -> tuple[str | None, str]:
    match = _TICKET.search(text)
    if match is None:
        return None, text
    date, seq = (re.sub(r"\s", "", g) for g in match.groups())
    return f"JY{date}-{seq}", text[: match.start()] + f" {TICKET_MARK} " + text[match.end() :]


class Router:
    """Routes one message to an intent, given the current brand catalogue.

    Building a Router is cheap (the jieba dictionary is process-wide and loaded once, by
    ``Router.warm_up()`` at start-up); the webhook rebuilds it when the catalogue changes.
    Thread-safe for ``route`` calls.
    """

    def __init__(self, brands: Sequence[BrandEntry] = (), *, lexicon: Lexicon | None = None) -> None:
        self._lexicon = lexicon or load_lexicon()
        segment.add_lexicon(self._lexicon)
        self._brands = list(brands)
        self._index = BrandIndex(self._brands, self._lexicon)
        segment.add_brand_words(self._index.all_words())
        self._padding = padding_pattern(self._lexicon.padding)
        greetings = "|".join(re.escape(g) for g in sorted(self._lexicon.greetings, key=len, reverse=True))
        punct = r"[\s,.!?~、:;。，！？…·]"
        self._greeting_only = re.compile(rf"^{punct}*(?:{greetings})(?:{greetings}|{punct})*$")
        self._protected = protected_pattern(self._lexicon.numeral_words)
        # token → [(intent, weight)], synonyms folded in
        self._token_weights: dict[str, list[tuple[str, float]]] = {}
        for name, table in self._lexicon.intents.items():
            for word, weight in table.keywords.items():
                self._token_weights.setdefault(word, []).append((name, weight))
            for variant, canonical in table.synonyms.items():
                self._token_weights.setdefault(variant, []).append((name, table.keywords[canonical]))
        self._priority = {name: i for i, name in enumerate(self._lexicon.priority)}
        self._score_words = self._lexicon.scores

    @staticmethod
    def warm_up(cache_dir: Path | str | None = None) -> None:
        """Load jieba's dictionary (cache file in ``cache_dir``), OpenCC and pypinyin now."""
        segment.warm_up(cache_dir)
        warm_up_normalize()
        fuzzy_pinyin("工")

    @property
    def brands(self) -> list[BrandEntry]:
        return list(self._brands)

    # -- analysis ---------------------------------------------------------------------------

    def analyse(self, text: str) -> Analysis:
        cleaned = clean(text, self._lexicon.wechat_emoji)
        analysis = Analysis(raw=text, cleaned=cleaned)
        ticket, lowered = _ticket(cleaned.lower())
        analysis.ticket = ticket
        # Spaces inside Chinese text carry nothing ("齐鲁 工匠", "查询 工惠乐学"); latin words keep theirs.
        analysed = _CJK_SPACE.sub("", strip_padding(lowered, self._padding))
        analysis.analysed = analysed
        tokens = segment.cut(analysed)
        boundaries = {0}
        position = 0
        spans = []
        for token in tokens:
            spans.append((position, position + len(token)))
            position += len(token)
            boundaries.add(position)
        matches = self._index.find(analysed, frozenset(boundaries))
        analysis.brands = matches
        masked = analysed
        for m in sorted(matches, key=lambda m: m.start, reverse=True):
            masked = masked[: m.start] + BRAND_MARK + masked[m.end :]
        analysis.tokens = [
            tok
            for tok, (s, e) in zip(tokens, spans, strict=True)
            if not any(m.start < e and s < m.end for m in matches) and tok.strip()
        ]
        analysis.masked = numerals_to_digits(masked, self._protected)
        analysis.scores = self._score(analysis.tokens, analysis.masked)
        return analysis

    def _score(self, tokens: list[str], masked: str) -> dict[str, float]:
        scores: dict[str, float] = {}
        for token in tokens:
            for name, weight in self._token_weights.get(token, ()):
                scores[name] = scores.get(name, 0.0) + weight
        length = len(_MEANINGFUL.findall(masked))
        for name, table in self._lexicon.intents.items():
            for pattern, weight in table.patterns:
                if pattern.search(masked):
                    scores[name] = scores.get(name, 0.0) + weight
            if table.max_chars is not None and length > table.max_chars and name in scores:
                scores[name] *= table.long_factor
        return {k: v for k, v in scores.items() if v > 0}

    # -- routing ----------------------------------------------------------------------------

    def route(self, text: str) -> Intent:
        return self._decide(self.analyse(text))

    def _ranked(self, scores: dict[str, float]) -> list[tuple[str, float]]:
        return sorted(scores.items(), key=lambda kv: (-kv[1], self._priority.get(kv[0], 99)))

    def _decide(self, a: Analysis) -> Intent:
        brand = a.brands[0] if a.brands else None
        ranked = self._ranked(a.scores)
        best, best_score = ranked[0] if ranked else ("unknown", 0.0)
        meaningful = bool(_MEANINGFUL.search(a.masked))

        if a.ticket and best not in ("suggest", "cancel"):
            # A quoted ticket is a question about that suggestion, whatever else was said.
            return Intent("status", ticket=a.ticket, brand=brand.name if brand else None)
        if not meaningful and not ranked:
            if a.cleaned and self._greeting_only.match(a.cleaned.lower()):
                return Intent("help")
            return Intent("unknown", suggestions=_DEFAULT_SUGGESTIONS)

        if best_score < self._lexicon.min_score:
            bare = _BARE_NUMBER.match(a.masked)
            if bare:
                return Intent("vote", number=int(bare.group(1)), confidence=_BARE_NUMBER_CONFIDENCE)
            if brand is not None and not brand.weak:
                # A brand and a rating word ("查保促一般") is a rating; a brand alone is probably
                # a vote, but ask ("您是想给『…』投票吗？").
                rated = self._extract_score(a.masked)[0] is not None
                return self._with_arguments(
                    "vote",
                    a,
                    brand,
                    brand.confidence if rated else min(_BARE_BRAND_CONFIDENCE, brand.confidence),
                    () if rated else ("vote", "status"),
                )
            closest = [name for name, _ in ranked]
            if brand is not None:  # a weak brand mention: voting or asking about it
                closest += ["vote", "status"]
            closest += _DEFAULT_SUGGESTIONS
            return Intent("unknown", suggestions=tuple(dict.fromkeys(closest))[:3])

        confidence = 1.0
        suggestions: tuple[str, ...] = ()
        if len(ranked) > 1 and ranked[1][1] >= self._lexicon.ambiguous_ratio * best_score:
            confidence = _TIE_CONFIDENCE
            suggestions = (best, ranked[1][0])
        if brand is not None and best in ("vote", "status", "suggest", "progress", "survey"):
            confidence = min(confidence, brand.confidence)
            if best == "vote" and len({m.name for m in a.brands}) > 1:
                confidence = min(confidence, _TIE_CONFIDENCE)  # two brands named: vote for which?
        return self._with_arguments(best, a, brand, confidence, suggestions)

    def _with_arguments(
        self,
        name: str,
        a: Analysis,
        brand: BrandMatch | None,
        confidence: float,
        suggestions: tuple[str, ...],
    ) -> Intent:
        brand_name = brand.name if brand else None
        if name == "vote":
            score, rest = self._extract_score(a.masked)
            number = None
            bare = _BARE_NUMBER.match(rest)
            if bare:
                number = int(bare.group(1))
                confidence = min(confidence, _BARE_NUMBER_CONFIDENCE)
            for pattern in _NUMBER_PATTERNS:
                match = None if bare else pattern.search(rest)
                if match:
                    number = int(match.group(1))
                    break
            return Intent(
                "vote",
                brand=brand_name,
                number=number,
                score=score,
                confidence=confidence,
                suggestions=suggestions,
            )
        if name == "status":
            mine = brand is None and bool(_MINE.search(a.masked))
            return Intent(
                "status",
                brand=brand_name,
                ticket=a.ticket,
                text=MY_SUGGESTIONS if mine and a.ticket is None else None,
                confidence=confidence,
                suggestions=suggestions,
            )
        if name == "suggest":
            lowered = a.cleaned.lower()
            anonymous = "匿名" in lowered and not _ANON_NEGATED.search(lowered)
            return Intent(
                "suggest",
                brand=brand_name,
                text=self._content(a.raw, "suggest", None) or None,
                anonymous=anonymous,
                confidence=confidence,
                suggestions=suggestions,
            )
        if name == "progress":
            return Intent(
                "progress",
                brand=brand_name,
                text=self._content(a.raw, "progress", brand_name) or None,
                confidence=confidence,
                suggestions=suggestions,
            )
        if name == "bind":
            content = self._content(a.raw, "bind", None)
            code = _BIND_CODE.search(content)
            return Intent(
                "bind",
                text=code.group(0).replace(" ", "").upper() if code else None,
                confidence=confidence,
                suggestions=suggestions,
            )
        if name == "survey":
            return Intent("survey", brand=brand_name, confidence=confidence, suggestions=suggestions)
        return Intent(name, confidence=confidence, suggestions=suggestions)

    def _extract_score(self, masked: str) -> tuple[int | None, str]:
        for word, value in self._score_words:
            position = masked.find(word)
            if position >= 0:
                return value, masked[:position] + " " + masked[position + len(word) :]
        match = _SCORE_DIGIT.search(masked)
        if match:
            return int(match.group(1)), masked[: match.start()] + " " + masked[match.end() :]
        match = _SCORE_OUT_OF_RANGE.search(masked)
        if match:  # "打10分": a rating, but not on our scale; the handler asks for 1–5
            return None, masked[: match.start()] + " " + masked[match.end() :]
        return None, masked

    def _content(self, raw: str, intent: str, brand_name: str | None) -> str:
        """The user's own words (punctuation kept) with command words (建议：, 上报进度…) cut off."""
        text = strip_padding(clean(raw, self._lexicon.wechat_emoji, for_analysis=False), self._padding)
        patterns = self._lexicon.strip.get(intent, ())
        changed = True
        while changed and text:
            changed = False
            for pattern in patterns:
                stripped = pattern.sub("", text, count=1).strip()
                if stripped != text:
                    text, changed = stripped, True
            if brand_name is not None:
                entry = self._index.by_name.get(brand_name)
                for surface in sorted((brand_name, *(entry.aliases if entry else ())), key=len, reverse=True):
                    if surface and text.lower().startswith(surface.lower()):
                        text, changed = text[len(surface) :].strip(), True
                        break
        return _EDGE_PUNCT.sub("", text)
