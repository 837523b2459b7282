"""jieba, loaded once per process.

jieba builds its prefix dictionary from a 5 MB word list (about a second) and caches it in a
file. We own one ``jieba.Tokenizer`` per process, initialise it at start-up (``warm_up``), keep
its cache file in a writable directory outside the repository, and add the union-domain user
dictionary and every brand name to it.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
from collections.abc import Iterable
from pathlib import Path

import jieba

from nlp.lexicon import Lexicon, load_lexicon

log = logging.getLogger(__name__)

# jieba logs its loading chatter at DEBUG/INFO to stderr; keep the CLI's stderr for real problems.
jieba.setLogLevel(logging.WARNING)

# Brand names must win over the ordinary words they overlap ("查保促" vs "促进", "1138工程").
BRAND_FREQ = 200_000
# Two-character aliases only a little: "快乐学习" must stay 快乐/学习 and not yield 乐学.
SHORT_ALIAS_FREQ = 300
KEYWORD_FREQ = 20_000

_lock = threading.Lock()
_tokenizer: jieba.Tokenizer | None = None
_added: set[str] = set()
_loaded: set[Path] = set()


def default_cache_dir() -> Path:
    # Per user: jieba's cache is a marshal dump, not something to read from a shared directory.
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"ghpp-jieba-{uid}"


def _writable_dir(preferred: Path | None) -> Path:
    for candidate in (preferred, default_cache_dir()):
        if candidate is None:
            continue
        try:
            candidate.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            log.warning("jieba cache directory %s is not writable; trying the next one", candidate)
            continue
        if os.access(candidate, os.W_OK):
            return candidate
    # Last resort: jieba builds the dictionary in memory and logs that it could not dump the cache.
    return Path(tempfile.gettempdir())


def warm_up(cache_dir: Path | str | None = None, lexicon: Lexicon | None = None) -> jieba.Tokenizer:
    """Load jieba's dictionary and ours now (idempotent; the first call's cache_dir wins)."""
    global _tokenizer
    if _tokenizer is not None:
        return _tokenizer
    with _lock:
        if _tokenizer is not None:
            return _tokenizer
        lexicon = lexicon or load_lexicon()
        directory = _writable_dir(Path(cache_dir) if cache_dir is not None else None)
        tokenizer = jieba.Tokenizer()
        tokenizer.tmp_dir = str(directory)
        tokenizer.initialize()
        _load_lexicon(tokenizer, lexicon)
        _tokenizer = tokenizer  # published only when complete
        return tokenizer


def _load_lexicon(tokenizer: jieba.Tokenizer, lexicon: Lexicon) -> None:
    if lexicon.userdict not in _loaded:
        with lexicon.userdict.open("rb") as fh:  # jieba leaves a path's file open
            tokenizer.load_userdict(fh)
        _loaded.add(lexicon.userdict)
    for word in lexicon.all_words():
        if not tokenizer.FREQ.get(word):
            tokenizer.add_word(word, KEYWORD_FREQ)


def add_lexicon(lexicon: Lexicon) -> None:
    """Make a (custom) lexicon's user dictionary and keywords jieba words too."""
    tokenizer = warm_up(lexicon=lexicon)
    with _lock:
        _load_lexicon(tokenizer, lexicon)


def is_ready() -> bool:
    return _tokenizer is not None


def add_brand_words(words: Iterable[str]) -> None:
    """Make brand names and aliases single tokens. Words accumulate for the process's life:
    a deleted brand's name stays a token, which is harmless (it no longer resolves)."""
    tokenizer = warm_up()
    with _lock:
        for word in words:
            if not word or word in _added:
                continue
            freq = SHORT_ALIAS_FREQ if len(word) <= 2 else BRAND_FREQ
            tokenizer.add_word(word, max(freq, tokenizer.FREQ.get(word) or 0))
            _added.add(word)


def word_freq(word: str) -> int:
    return int(warm_up().FREQ.get(word) or 0)


def cut(text: str) -> list[str]:
    # HMM off: new-word discovery would glue arbitrary characters into "words" and is slower.
    tokenizer = _tokenizer or warm_up()
    return list(tokenizer.cut(text, HMM=False))
