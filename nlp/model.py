"""The intent classifier: features, training, calibration, and the parameters on disk.

Features are character 1–3-grams of the analysed message (brands masked as Ⓑ, tickets as Ⓣ, numbers
folded, punctuation dropped so voice transcripts look like typed text), jieba words, and a length
bucket; binary, L2-normalised. A multinomial logistic regression (scikit-learn, at training time
only) gives the weights; a temperature fitted on cross-validation folds of the training corpus makes
the softmax a calibrated probability. Inference is numpy only: the web process never imports sklearn.

Parameters are an ``.npz`` of plain arrays (no pickle), built by ``python -m nlp train`` or on first
use, and cached outside the repository under a name keyed by a hash of everything that shapes them
(corpus, router tables, feature code). Loaded once per process.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import re
import subprocess
import sys
import tempfile
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import numpy.typing as npt

from nlp.lexicon import CONFIG_DIR

log = logging.getLogger(__name__)

CORPUS_DIR = CONFIG_DIR / "corpus"
SEED = 20261201
FOLDS = 5
# Regularisation of the logistic regression (inverse strength); chosen on cross-validation folds.
C = 8.0
MIN_DF = 2
NGRAMS = (1, 2, 3)
_NLP_DIR = Path(__file__).resolve().parent
# Everything whose change changes the parameters: the corpus, the router's tables, the feature code.
_HASHED_SOURCES = (
    "model.py",
    "train.py",
    "router.py",
    "normalize.py",
    "brands.py",
    "segment.py",
    "lexicon.py",
    "intent.py",
)

_DROP = re.compile(r"[\s,.!?~、:;。，！？…·\-—_'\"“”‘’()（）\[\]【】《》<>/\\*#@&%+=^|]+")
_CODE = re.compile(r"[a-z0-9]*(?:[a-z][0-9]|[0-9][a-z])[a-z0-9]*|\d{5,}")
_LONG_DIGITS = re.compile(r"\d{3,4}")
_DIGITS = re.compile(r"\d{1,2}")
_LENGTH_BUCKETS = (1, 2, 4, 8, 16, 32)


def feature_text(masked: str) -> str:
    """The masked text as the classifier reads it: no punctuation, codes and numbers folded."""
    text = _DROP.sub("", masked)
    text = _CODE.sub("Ⓒ", text)
    text = _LONG_DIGITS.sub("#", text)
    return _DIGITS.sub("0", text)


def features(masked: str, tokens: Iterable[str]) -> list[str]:
    text = feature_text(masked)
    out: set[str] = set()
    padded = f"^{text}$"
    for n in NGRAMS:
        for i in range(len(padded) - n + 1):
            gram = padded[i : i + n]
            if gram not in ("^", "$"):
                out.add(gram)
    for token in tokens:
        word = feature_text(token)
        if word:
            out.add("w:" + word)
    bucket = next((b for b in _LENGTH_BUCKETS if len(text) <= b), 99)
    out.add(f"len:{bucket}")
    return sorted(out)


def oov_feature(feats: Sequence[str], known: Callable[[str], bool]) -> str:
    """How much of the message the model has never seen, as one feature: chit-chat is mostly unseen."""
    chars = [f for f in feats if len(f) == 1 or (len(f) == 2 and (f[0] == "^" or f[1] == "$"))]
    chars = [f.strip("^$") for f in chars]
    if not chars:
        return "oov:none"
    unseen = sum(1 for c in chars if not known(c))
    frac = unseen / len(chars)
    return "oov:0" if frac == 0 else "oov:1" if frac <= 0.25 else "oov:2" if frac <= 0.5 else "oov:3"


OOV_FEATURES = ("oov:none", "oov:0", "oov:1", "oov:2", "oov:3")


def softmax(logits: npt.NDArray[np.float64], temperature: float = 1.0) -> npt.NDArray[np.float64]:
    z = logits / temperature
    z = z - z.max(axis=-1, keepdims=True)
    e = np.exp(z)
    result: npt.NDArray[np.float64] = e / e.sum(axis=-1, keepdims=True)
    return result


def fit_temperature(logits: npt.NDArray[np.float64], labels: npt.NDArray[np.int64]) -> float:
    """The temperature minimising the negative log-likelihood (grid, then a finer grid; deterministic)."""

    def nll(t: float) -> float:
        p = softmax(logits, t)[np.arange(len(labels)), labels]
        return float(-np.log(np.clip(p, 1e-12, None)).mean())

    grid = np.exp(np.linspace(math.log(0.05), math.log(20.0), 241))
    best = min(grid, key=nll)
    fine = np.linspace(best / 1.03, best * 1.03, 61)
    return float(min(fine, key=nll))


def reliability(
    confidence: Sequence[float], correct: Sequence[bool], bins: int = 10
) -> tuple[list[tuple[float, float, int, float, float]], float]:
    """Equal-width bins: (low, high, count, mean confidence, accuracy) and the expected calibration error."""
    rows = []
    ece = 0.0
    total = len(confidence)
    for i in range(bins):
        low, high = i / bins, (i + 1) / bins
        members = [
            (c, ok)
            for c, ok in zip(confidence, correct, strict=True)
            if (low < c <= high) or (i == 0 and c == 0)
        ]
        if not members:
            rows.append((low, high, 0, 0.0, 0.0))
            continue
        mean_conf = sum(c for c, _ in members) / len(members)
        accuracy = sum(1 for _, ok in members if ok) / len(members)
        rows.append((low, high, len(members), mean_conf, accuracy))
        ece += len(members) / total * abs(mean_conf - accuracy)
    return rows, ece


# -- parameters -------------------------------------------------------------------------------


@dataclass
class Model:
    classes: tuple[str, ...]
    vocabulary: dict[str, int]
    weights: npt.NDArray[np.float32]  # features × classes
    bias: npt.NDArray[np.float32]
    temperature: float
    meta: dict[str, object] = field(default_factory=dict)

    def logits(self, feats: Sequence[str]) -> npt.NDArray[np.float64]:
        vocabulary = self.vocabulary
        all_feats = [*feats, oov_feature(feats, vocabulary.__contains__)]
        index = [i for f in all_feats if (i := vocabulary.get(f)) is not None]
        if not index:
            return self.bias.astype(np.float64)
        # Normalised by every feature of the message, seen or not: a message of unseen words must not
        # be decided by the one n-gram the model happens to know.
        row = self.weights[index].sum(axis=0, dtype=np.float64) / math.sqrt(len(all_feats))
        result: npt.NDArray[np.float64] = row + self.bias
        return result

    def probabilities(self, feats: Sequence[str]) -> dict[str, float]:
        p = softmax(self.logits(feats), self.temperature)
        return {name: float(v) for name, v in zip(self.classes, p, strict=True)}

    def rule_confidence(self, rule: str, default: float = 0.95) -> float:
        rules = self.meta.get("rules")
        if isinstance(rules, dict):
            value = rules.get(rule)
            if isinstance(value, dict) and isinstance(value.get("confidence"), float):
                return float(value["confidence"])
        return default

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        vocab = sorted(self.vocabulary, key=self.vocabulary.__getitem__)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        with tmp.open("wb") as fh:
            np.savez(
                fh,
                classes=np.array(self.classes),
                vocabulary=np.array(vocab),
                weights=self.weights,
                bias=self.bias,
                temperature=np.array(self.temperature),
                meta=np.array(json.dumps(self.meta, ensure_ascii=False, sort_keys=True)),
            )
        tmp.replace(path)  # readers never see a half-written file

    @classmethod
    def load(cls, path: Path) -> Model:
        with np.load(path, allow_pickle=False) as data:
            vocab = [str(v) for v in data["vocabulary"]]
            return cls(
                classes=tuple(str(c) for c in data["classes"]),
                vocabulary={v: i for i, v in enumerate(vocab)},
                weights=np.ascontiguousarray(data["weights"], dtype=np.float32),
                bias=np.asarray(data["bias"], dtype=np.float32),
                temperature=float(data["temperature"]),
                meta=json.loads(str(data["meta"])),
            )


# -- where the parameters live ------------------------------------------------------------------


def corpus_files(directory: Path = CORPUS_DIR) -> list[Path]:
    """The labelled files (brands_*.txt are their catalogues)."""
    return sorted(p for p in directory.glob("*.txt") if not p.name.startswith("brands_"))


def corpus_hash(directory: Path = CORPUS_DIR, extra: Sequence[Path] = ()) -> str:
    digest = hashlib.sha256()
    sources = [
        *sorted(directory.glob("*.txt")),
        *sorted(CONFIG_DIR.glob("*.yaml")),
        *sorted(CONFIG_DIR.glob("*.txt")),
    ]
    sources += [_NLP_DIR / name for name in _HASHED_SOURCES]
    sources += list(extra)
    for path in sources:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    digest.update(f"{SEED} {C} {MIN_DF} {NGRAMS} {FOLDS}".encode())
    return digest.hexdigest()[:16]


def default_cache_dir() -> Path:
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return Path(tempfile.gettempdir()) / f"ghpp-router-{uid}"


def model_filename(key: str) -> str:
    return f"router-model-{key}.npz"


_lock = threading.Lock()
_model: Model | None = None
_model_path: Path | None = None
_cache_dirs: list[Path] = []


def set_cache_dir(directory: Path | str | None) -> None:
    """Look for (and build) the parameters here first; the default temp directory stays a fallback."""
    if directory is not None and Path(directory) not in _cache_dirs:
        _cache_dirs.insert(0, Path(directory))


def _candidates(key: str) -> list[Path]:
    dirs = [*_cache_dirs, default_cache_dir()]
    return [d / model_filename(key) for d in dict.fromkeys(dirs)]


def build_in_subprocess(out: Path) -> None:
    """Train in a child process, so the caller (the web process) never loads scikit-learn."""
    log.warning("router model %s missing: training it now (once per corpus version)", out.name)
    subprocess.run(
        [sys.executable, "-m", "nlp", "train", "--out", str(out)],
        check=True,
        cwd=_NLP_DIR.parent,
        capture_output=True,
        timeout=900,
    )


def get_model() -> Model:
    """The process-wide model, loaded once; trained first (in a child process) if never built."""
    global _model, _model_path
    if _model is not None:
        return _model
    with _lock:
        if _model is not None:
            return _model
        override = os.environ.get("ROUTER_MODEL")
        if override:
            _model, _model_path = Model.load(Path(override)), Path(override)
            return _model
        key = corpus_hash()
        candidates = _candidates(key)
        path = next((p for p in candidates if p.is_file()), None)
        if path is None:
            path = _writable(candidates)
            build_in_subprocess(path)
        _model, _model_path = Model.load(path), path
        return _model


def loaded_path() -> Path:
    """Where the process's parameters came from (loading them first if needed)."""
    get_model()
    assert _model_path is not None
    return _model_path


def _writable(candidates: list[Path]) -> Path:
    for path in candidates:
        try:
            path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        except OSError:
            continue
        if os.access(path.parent, os.W_OK):
            return path
    raise OSError("没有可写的目录存放路由模型：" + "、".join(str(p.parent) for p in candidates))


def default_model_path() -> Path:
    return _writable(_candidates(corpus_hash()))
