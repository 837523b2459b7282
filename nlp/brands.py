"""Brand resolution: which brand of the catalogue a message names, and how sure we are.

Four ways, tried in order, first hit wins:
exact name or alias (1.0) → partial name, e.g. 乐学 for 工惠乐学 (0.85) → sound, for voice
homophones such as 工会乐学 (0.8). Two-character names and partials count only when jieba
keeps them as one token, so "快乐学习" does not name 工惠乐学.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from pypinyin import Style, lazy_pinyin

from nlp.intent import BrandEntry
from nlp.lexicon import Lexicon
from nlp.normalize import clean
from nlp.segment import word_freq

EXACT, PARTIAL, PINYIN = "exact", "partial", "pinyin"
CONFIDENCE = {EXACT: 1.0, PARTIAL: 0.85, PINYIN: 0.8}
# A two-character fragment this common in jieba's dictionary is an ordinary word (化工, 幸福…).
_COMMON_WORD_FREQ = 50
_COMMON_TAIL_FREQ = 1000
_MIN_PINYIN_LEN = 3
_FUZZY_INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"))


@dataclass(frozen=True)
class BrandMatch:
    name: str
    start: int
    end: int
    kind: str
    # A partial match that is also an everyday word (驿站): not enough on its own to ask "投票吗？"
    weak: bool = False

    @property
    def confidence(self) -> float:
        return CONFIDENCE[self.kind]


@lru_cache(maxsize=8192)
def fuzzy_pinyin(char: str) -> str:
    """Pinyin without tone, folded the way Mandarin speakers and recognisers confuse it."""
    syllable = lazy_pinyin(char, style=Style.NORMAL, errors="default")[0]
    for a, b in _FUZZY_INITIALS:
        if syllable.startswith(a):
            syllable = b + syllable[len(a) :]
            break
    if syllable.startswith("l"):
        syllable = "n" + syllable[1:]
    if syllable.endswith(("ing", "eng")):
        syllable = syllable[:-1]
    return syllable


_SPOKEN = str.maketrans("0123456789", "零一二三四五六七八九")


def _spoken_digits(surface: str) -> set[str]:
    spoken = surface.translate(_SPOKEN)
    return {spoken, spoken.replace("一", "幺"), surface.replace("0", "〇").translate(_SPOKEN)} - {surface}


def _sound(char: str) -> str:
    return fuzzy_pinyin(char) if "\u4e00" <= char <= "\u9fff" else char


def _is_cjk(text: str) -> bool:
    return all("\u4e00" <= c <= "\u9fff" for c in text)


class BrandIndex:
    def __init__(self, brands: Sequence[BrandEntry], lexicon: Lexicon) -> None:
        self.surfaces: dict[str, str] = {}
        ambiguous: set[str] = set()
        # Names first, so a brand's name beats another brand's alias.
        for entry in brands:
            self._add_surface(entry.name, entry.name, ambiguous)
        for entry in brands:
            for alias in entry.aliases:
                self._add_surface(alias, entry.name, ambiguous)
        written = dict(self.surfaces)
        # Voice recognition writes digits as characters: 1138工程 → 一一三八工程 / 幺幺三八工程.
        for surface, name in written.items():
            if any(c.isascii() and c.isdigit() for c in surface):
                for variant in _spoken_digits(surface):
                    self._add_surface(variant, name, ambiguous)
        self.by_name: dict[str, BrandEntry] = {e.name: e for e in brands}
        alternatives = sorted(self.surfaces, key=len, reverse=True)
        self._surface_re = re.compile("|".join(re.escape(s) for s in alternatives)) if alternatives else None

        owners: dict[str, set[str]] = {}
        generic = lexicon.generic_brand_parts
        for surface, name in written.items():
            if not _is_cjk(surface):
                continue
            for size in range(2, len(surface)):
                for i in range(len(surface) - size + 1):
                    part = surface[i : i + size]
                    if part in generic or part in self.surfaces or self._all_generic(part, generic):
                        continue
                    owners.setdefault(part, set()).add(name)
        # A two-character fragment must be rare (乐学), or be the last word of a brand's name
        # (驿站 of 幸福驿站: people shorten a name to it) and not too common (培训, 发展 are not).
        tails = {
            clean(e.name).lower()[-2:]
            for e in brands
            if word_freq(clean(e.name).lower()[-2:]) < _COMMON_TAIL_FREQ
        }
        self.partials = {
            part: next(iter(names))
            for part, names in owners.items()
            if len(names) == 1 and (len(part) > 2 or part in tails or word_freq(part) < _COMMON_WORD_FREQ)
        }
        self._partial_sizes = sorted({len(p) for p in self.partials}, reverse=True)

        sounds: dict[tuple[str, ...], set[str]] = {}
        for surface, name in self.surfaces.items():
            # Digits and latin letters sound like themselves: 3561公程 is 3561工程.
            cjk = sum(1 for c in surface if _is_cjk(c))
            if (
                len(surface) >= _MIN_PINYIN_LEN
                and cjk >= 2
                and all(_is_cjk(c) or c.isascii() for c in surface)
            ):
                sounds.setdefault(tuple(_sound(c) for c in surface), set()).add(name)
        self.sounds = {key: next(iter(names)) for key, names in sounds.items() if len(names) == 1}
        self._sound_sizes = sorted({len(k) for k in self.sounds}, reverse=True)

    def _add_surface(self, raw: str, name: str, ambiguous: set[str]) -> None:
        surface = clean(raw).lower()
        if not surface or surface in ambiguous:
            return
        owner = self.surfaces.get(surface)
        if owner is not None and owner != name:
            if surface == clean(owner).lower():
                return  # another brand's exact name: keep it
            del self.surfaces[surface]
            ambiguous.add(surface)
            return
        self.surfaces[surface] = name

    @staticmethod
    def _all_generic(part: str, generic: frozenset[str]) -> bool:
        # "工会服务" is made of generic pieces only: it names no brand in particular.
        if len(part) < 4:
            return False
        return any(part[:i] in generic and part[i:] in generic for i in range(2, len(part) - 1))

    def all_words(self) -> list[str]:
        return list(self.surfaces)

    def find(self, text: str, boundaries: frozenset[int]) -> list[BrandMatch]:
        """Brand mentions in ``text`` (lower-cased, cleaned), leftmost first.

        ``boundaries`` are jieba's token boundaries: a two-character match must sit on them.
        """
        exact = []
        if self._surface_re is not None:
            for m in self._surface_re.finditer(text):
                if len(m.group(0)) <= 2 and not (m.start() in boundaries and m.end() in boundaries):
                    continue
                exact.append(BrandMatch(self.surfaces[m.group(0)], m.start(), m.end(), EXACT))
        if exact:
            return exact
        partial = self._find_partial(text, boundaries)
        if partial is not None:
            return [partial]
        sound = self._find_sound(text)
        return [sound] if sound is not None else []

    def _find_partial(self, text: str, boundaries: frozenset[int]) -> BrandMatch | None:
        for size in self._partial_sizes:
            for i in range(len(text) - size + 1):
                name = self.partials.get(text[i : i + size])
                if name is None:
                    continue
                if size <= 2 and not (i in boundaries and i + size in boundaries):
                    continue
                part = text[i : i + size]
                return BrandMatch(name, i, i + size, PARTIAL, weak=word_freq(part) >= _COMMON_WORD_FREQ)
        return None

    def _find_sound(self, text: str) -> BrandMatch | None:
        if not self._sound_sizes:
            return None
        sounds = [
            _sound(c) if ("\u4e00" <= c <= "\u9fff" or (c.isascii() and c.isalnum())) else "" for c in text
        ]
        for size in self._sound_sizes:
            for i in range(len(text) - size + 1):
                window = sounds[i : i + size]
                if "" in window:
                    continue
                name = self.sounds.get(tuple(window))
                if name is not None:
                    return BrandMatch(name, i, i + size, PINYIN)
        return None
