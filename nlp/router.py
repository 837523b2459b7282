"""The router: one message → one Intent, given the current brand catalogue.

Steps (docs/zh/router.md explains them for operators):
1. clean: full-width → half-width, traditional → simplified, emoji removed (normalize.clean);
2. pull out a suggestion ticket (JY20261121-0042, however it was typed);
3. strip polite padding (麻烦问一下… 谢谢; whole words only), cut with jieba (brand names are single tokens);
4. find the brand (exact, alias, partial, sound) and mask it, so 1138工程 is not "number 1138";
5. Chinese numerals → digits; a few certain rules (ticket, bare cancel word, 投3号, greeting), otherwise
   the trained classifier (nlp/model.py) gives every intent a calibrated probability;
6. extract the arguments the chosen intent needs (rules: numbers, scores, content, anonymity).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

import yaml

from nlp import segment
from nlp.brands import BrandIndex, BrandMatch, fuzzy_pinyin
from nlp.intent import MY_SUGGESTIONS, BrandEntry, Intent
from nlp.lexicon import CONFIG_DIR, Lexicon, load_lexicon
from nlp.model import features, get_model, set_cache_dir
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
    re.compile(r"(?:投票给?|投给|投|选|支持|给)\s*(\d{1,3})(?![\d分星年月天个人岁次票])"),
)
# "不是3号", "不投3号了": a number or brand right after these is the one NOT meant.
_NEGATED_BEFORE = re.compile(r"(不是|不投|不选|别投|不要投|不支持)\s*(第\s*)?$")
# "A不投了": the brand just before these is the one NOT meant.
_NEGATED_AFTER = re.compile(r"^\s*(不投|不选|不要|不支持|就算了|算了)")
# After a correction cue the number or brand that follows is the one meant.
_CORRECTION = re.compile(r"不对|说错|错了|改投|改成|改选|换成|重新投|更正")
# A lone number is a candidate number only up to 99; "123" is not a vote.
_BARE_NUMBER = re.compile(r"^\s*(\d{1,2})\s*[.!]?\s*$")
_CJK_SPACE = re.compile(r"(?<=[\u4e00-\u9fff])\s+(?=[\u4e00-\u9fff])")
# One's own suggestion: 我的…, 我提的…, or a follow-up on "that matter I reported" without 我的.
_MINE = re.compile(
    r"(我|俺|本人).{0,6}?(提|反映|反应|投诉|说|反馈|提交|报)过?(的|得|那)|我的|俺的|我得(建议|意见|投诉|反馈)"
    r"|(上回|上次|之前|前几天|前天|前两天|前段时间|前阵子|前些天|上个月|上周|上礼拜|上星期|那天|昨天|早先)"
    r"[^Ⓑ]{0,6}?(提|反映|反应|说|投诉|反馈|报)"
    r"|(建议|意见|投诉|反馈|反映的?(事|问题)).{0,6}?(回复|回音|下文|结果|处理|答复|人管|进展)"
)
# Card numbers are often typed in groups ("6222 0001"): spaces inside are kept, then dropped.
_BIND_CODE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9\-]| (?=[A-Za-z0-9])){3,40}")
# Anonymity, said or meant: 匿名, 别写我名字, 不想让人知道是我, 保密.
_ANON = re.compile(
    r"匿名|(别|不要|不用|勿|不想|不能|千万别)(写|留|透露|公开|提|暴露|说出|说|泄露|告诉|往外说)"
    r"[^,，。!！?？]{0,8}?(名字|姓名|信息|身份|是我|是俺)"
    r"|(不想|别|不要|不能|千万别)让.{0,6}知道是(我|俺)|(帮我|给我|请|替我)?保密|名字别(往外)?说"
)
_ANON_NEGATED = re.compile(r"(不|不用|不要|无需|不必|没必要|不想|不需要|用不着)(要|用|想)?匿名|实名")
# Leading punctuation is what remains of a command ("建议：…"); at the end only separators go,
# the worker's own 。！？… stay part of what they wrote.
_EDGE_PUNCT = re.compile(r"^[\s,.!?~、:;。，！？…·\-—_]+|[\s,、:;，\-—_]+$")
_MEANINGFUL = re.compile(r"[0-9a-z\u4e00-\u9fff" + BRAND_MARK + TICKET_MARK + "]")
_FLAT = re.compile(r"[^0-9a-z\u4e00-\u9fff" + BRAND_MARK + TICKET_MARK + "]+")
# Bare cancel words: the whole message is one of these (certain; longer messages go to the classifier).
_CANCEL_ONLY = re.compile(
    r"^(我)?(取消|退出|算了|不投了|不想投了|不弄了|不填了|不想填了|不用了|撤回|结束|不搞了|不报了|不要了|别投了|"
    r"不绑定了|不参加了|先不弄了|取消投票|取消上报|退出问卷|取消操作)+(吧|啦|了)?$"
)
# A party/government reviewer's one-time code (评议 PY1A2B3C4D): certain, like a ticket.
_REVIEWER_CODE = re.compile(r"(评议码?|评议人)[^a-z0-9]{0,3}py[0-9a-f]{8}(?![0-9a-z])")
# "投3号", "选第5个", "投 12": an explicit candidate number after a voting verb, in a short message.
_VOTE_NUMBER = re.compile(r"(?<![不别没候])(投票给?|投给|投|选|我选|就投)第?\d{1,3}(号|个)?(候选)?$")
_SHORT_NUMBER_VOTE = 10
_DEFAULT_SUGGESTIONS = ("vote", "suggest", "help")
# Caps where the message itself is too thin to act on without asking: a bare brand name (vote? status?),
# a bare number, a vote naming two brands.
_BARE_BRAND_CONFIDENCE = 0.6
_BARE_NUMBER_CONFIDENCE = 0.9
_TIE_CONFIDENCE = 0.7
_RATED_COMPLAINT_CONFIDENCE = 0.7
POLICY_FILE = CONFIG_DIR / "policy.yaml"


def policy_act(path: Path = POLICY_FILE) -> float:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return float(data.get("act", 0.85))


def _candidate_number(text: str) -> int | None:
    """The candidate number meant: not one that is negated, and after a correction cue if there is one."""
    found: list[tuple[int, int]] = []
    for pattern in _NUMBER_PATTERNS:
        for m in pattern.finditer(text):
            if any(s <= m.start(1) < e for s, e, *_ in ((x, x + 1) for x, _ in found)):
                continue
            if not _NEGATED_BEFORE.search(text[max(0, m.start() - 4) : m.start()]):
                found.append((m.start(1), int(m.group(1))))
    if not found:
        return None
    found.sort()
    cues = list(_CORRECTION.finditer(text))
    if cues:
        cue = cues[-1]
        after = [n for pos, n in found if pos >= cue.end()]
        if after:
            return after[0]
    return found[0][1]


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
    # the classifier's probability per intent (filled when routing)
    scores: dict[str, float] = field(default_factory=dict)


def _ticket(text: str) -> tuple[str | None, str]:
    match = _TICKET.search(text)
    if match is None:
        return None, text
    date, seq = (re.sub(r"\s", "", g) for g in match.groups())
    return f"JY{date}-{seq}", text[: match.start()] + f" {TICKET_MARK} " + text[match.end() :]


def _word_boundaries(text: str) -> frozenset[int]:
    position, out = 0, {0}
    for token in segment.cut(text):
        position += len(token)
        out.add(position)
    return frozenset(out)


class Router:
    """Routes one message to an intent, given the current brand catalogue.

    Building a Router is cheap (the jieba dictionary and the classifier are process-wide and loaded
    once, by ``Router.warm_up()`` at start-up); the webhook rebuilds it when the catalogue changes.
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
        self._greeting_only = re.compile(rf"^{punct}*(?:{greetings})(?:{greetings}|{punct}|[啊呀哈嘛])*$")
        self._protected = protected_pattern(self._lexicon.numeral_words)
        self._score_words = self._lexicon.scores
        self._policy_act = policy_act()

    @staticmethod
    def warm_up(cache_dir: Path | str | None = None) -> None:
        """Load jieba's dictionary (cache file in ``cache_dir``), OpenCC, pypinyin and the classifier now.

        The classifier's parameters are looked for beside jieba's cache (``cache_dir/../router``), then
        in the temp directory; built there once if missing.
        """
        segment.warm_up(cache_dir)
        warm_up_normalize()
        fuzzy_pinyin("工")
        if cache_dir is not None:
            set_cache_dir(Path(cache_dir).parent / "router")
        get_model()

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
        analysed = _CJK_SPACE.sub("", strip_padding(lowered, self._padding, _word_boundaries))
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
        return analysis

    # -- routing ----------------------------------------------------------------------------

    def route(self, text: str) -> Intent:
        return self._decide(self.analyse(text))

    def route_analysed(self, a: Analysis) -> Intent:
        return self._decide(a)

    def rule(self, a: Analysis) -> tuple[str, str] | None:
        """A decision the classifier is not needed for: (rule name, intent), or None.

        Only where the form is certain: a quoted ticket, a bare cancel word, a short message with an
        explicit number after 投/选, a greeting alone, nothing meaningful at all.
        """
        flat = _FLAT.sub("", a.masked)
        if a.ticket is not None:
            return ("ticket", "status")
        if _REVIEWER_CODE.search(a.cleaned.lower()):
            return ("reviewer_code", "bind")
        if not flat:
            if a.cleaned and self._greeting_only.match(a.cleaned.lower()):
                return ("greeting", "help")
            if a.cleaned.strip() in ("?", "？"):
                return ("question_mark", "help")  # a lone "?" asks what the account does
            return ("empty", "unknown")
        if self._greeting_only.match(a.cleaned.lower()):
            return ("greeting", "help")
        if _CANCEL_ONLY.match(flat):
            return ("cancel_word", "cancel")
        if len(flat) <= _SHORT_NUMBER_VOTE and _VOTE_NUMBER.search(flat):
            return ("vote_number", "vote")
        return None

    def _decide(self, a: Analysis) -> Intent:
        model = get_model()
        probs = model.probabilities(features(a.masked, a.tokens))
        a.scores = probs
        ranked = sorted(probs, key=lambda k: (-probs[k], k))
        brand = self._chosen_brand(a)
        rule = self.rule(a)
        if rule is not None and rule[0] == "ticket" and ranked[0] in ("suggest", "cancel"):
            rule = None  # "撤回JY…的建议", a complaint quoting a ticket: the classifier decides
        if rule is not None:
            name = rule[1]
            confidence = model.rule_confidence(rule[0])
        else:
            name = ranked[0]
            confidence = probs[name]
        alternatives = tuple(k for k in ranked if k != name)[:3]
        if name == "unknown":
            closest = [k for k in ranked if k != "unknown"]
            if brand is not None:  # a (weak) brand mention: voting or asking about it
                closest = ["vote", "status", *closest]
            return Intent(
                "unknown",
                confidence=confidence,
                suggestions=tuple(dict.fromkeys(closest))[:3] or _DEFAULT_SUGGESTIONS,
                alternatives=alternatives,
            )
        bare = _BARE_NUMBER.match(a.masked)
        if bare and name == "vote":
            confidence = min(confidence, _BARE_NUMBER_CONFIDENCE)
        suggestions: tuple[str, ...] = ()
        if _FLAT.sub("", a.masked) == BRAND_MARK and brand is not None:
            # A brand alone: probably a vote, but ask ("您是想给『…』投票吗？"); a weak one names nothing.
            if brand.weak:
                return Intent("unknown", suggestions=("vote", "status", "help"), alternatives=alternatives)
            name, confidence, suggestions = (
                "vote",
                min(confidence, _BARE_BRAND_CONFIDENCE),
                ("vote", "status"),
            )
        if name == "vote" and brand is not None:
            confidence = min(confidence, brand.confidence)
            if len({m.name for m in a.brands}) > 1 and not _CORRECTION.search(a.masked):
                confidence = min(confidence, _TIE_CONFIDENCE)  # two brands named: vote for which?
        if name == "suggest" and self._extract_score(a.masked)[0] is not None:
            # "对X很不满意，活动室总是锁着门": a complaint, but it also reads as a 1-point rating; the
            # bot offers both rather than recording either on its own.
            confidence = min(confidence, _RATED_COMPLAINT_CONFIDENCE)
            suggestions = ("suggest", "vote")
        if not suggestions and confidence < self._policy_act and alternatives:
            suggestions = (name, alternatives[0])
        return self._with_arguments(name, a, brand, confidence, suggestions, alternatives)

    def _chosen_brand(self, a: Analysis) -> BrandMatch | None:
        """The brand meant: the first one not negated ("不投A了，改投B" → B)."""
        if not a.brands:
            return None
        kept = [
            m
            for m in a.brands
            if not _NEGATED_BEFORE.search(a.analysed[max(0, m.start - 4) : m.start])
            and not _NEGATED_AFTER.search(a.analysed[m.end : m.end + 4])
        ]
        cue = _CORRECTION.search(a.analysed)
        if cue is not None:
            after = [m for m in kept if m.start >= cue.end()]
            if after:
                return after[0]
        return kept[0] if kept else a.brands[-1]

    def _with_arguments(
        self,
        name: str,
        a: Analysis,
        brand: BrandMatch | None,
        confidence: float,
        suggestions: tuple[str, ...],
        alternatives: tuple[str, ...] = (),
    ) -> Intent:
        intent = self._arguments(name, a, brand)
        return replace(intent, confidence=confidence, suggestions=suggestions, alternatives=alternatives)

    def _arguments(
        self,
        name: str,
        a: Analysis,
        brand: BrandMatch | None,
    ) -> Intent:
        brand_name = brand.name if brand else None
        if name == "vote":
            score, rest = self._extract_score(a.masked)
            bare = _BARE_NUMBER.match(rest)
            number = int(bare.group(1)) if bare else _candidate_number(rest)
            return Intent("vote", brand=brand_name, number=number, score=score)
        if name == "status":
            mine = brand is None and bool(_MINE.search(a.masked))
            return Intent(
                "status",
                brand=brand_name,
                ticket=a.ticket,
                text=MY_SUGGESTIONS if mine and a.ticket is None else None,
            )
        if name == "suggest":
            lowered = a.cleaned.lower()
            anonymous = bool(_ANON.search(lowered)) and not _ANON_NEGATED.search(lowered)
            return Intent(
                "suggest",
                brand=brand_name,
                text=self._content(a.raw, "suggest", None) or None,
                anonymous=anonymous,
            )
        if name == "progress":
            return Intent(
                "progress",
                brand=brand_name,
                text=self._content(a.raw, "progress", brand_name) or None,
            )
        if name == "bind":
            content = self._content(a.raw, "bind", None)
            code = _BIND_CODE.search(content)
            return Intent(
                "bind",
                text=code.group(0).replace(" ", "").upper() if code else None,
            )
        if name == "survey":
            return Intent("survey", brand=brand_name)
        return Intent(name)

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
        text = strip_padding(
            clean(raw, self._lexicon.wechat_emoji, for_analysis=False), self._padding, _word_boundaries
        )
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
