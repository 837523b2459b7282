"""``python -m nlp train``: fit the intent classifier on the labelled corpus (scikit-learn, training only).

Deterministic: fixed seed, fixed fold assignment, a deterministic solver. Steps: analyse every message
with a Router for its file's brand catalogue (so brands are masked exactly as at runtime); build the
vocabulary (features seen in at least MIN_DF messages); fit on cross-validation folds to collect
out-of-fold logits; fit the temperature on them (calibration never sees held-out data); fit on
everything; measure how often each certain rule is right on the corpus (its confidence).
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from nlp.examples import Example, read_brands, read_examples
from nlp.intent import INTENTS
from nlp.model import (
    FOLDS,
    MIN_DF,
    OOV_FEATURES,
    SEED,
    C,
    Model,
    corpus_files,
    corpus_hash,
    features,
    fit_temperature,
    oov_feature,
)
from nlp.router import Router


@dataclass(frozen=True)
class Sample:
    intent: str
    features: list[str]
    rule: tuple[str, str] | None  # (rule name, intent it decides)
    source: str


def load_samples(files: Sequence[Path]) -> list[Sample]:
    samples: list[Sample] = []
    routers: dict[Path, Router] = {}
    for path in files:
        examples, brands_path = read_examples(path)
        if brands_path is None:
            raise ValueError(f"训练文件 {path} 缺少 @brands 行。")
        router = routers.get(brands_path)
        if router is None:
            router = routers[brands_path] = Router(read_brands(brands_path))
        samples += [_sample(router, ex, path.name) for ex in examples]
    return samples


def _sample(router: Router, ex: Example, source: str) -> Sample:
    a = router.analyse(ex.message)
    return Sample(ex.intent, features(a.masked, a.tokens), router.rule(a), source)


def _matrix(samples: Sequence[Sample], vocabulary: dict[str, int]) -> sparse.csr_matrix:
    """Rows exactly as Model.logits builds them at runtime."""
    rows, cols, vals = [], [], []
    for r, s in enumerate(samples):
        feats = [*s.features, oov_feature(s.features, vocabulary.__contains__)]
        idx = sorted({vocabulary[f] for f in feats if f in vocabulary})
        for c in idx:
            rows.append(r)
            cols.append(c)
            vals.append(1.0 / np.sqrt(len(feats)))
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(samples), len(vocabulary)), dtype=np.float64)


def _vocabulary(samples: Sequence[Sample], min_df: int) -> dict[str, int]:
    df: Counter[str] = Counter()
    for s in samples:
        df.update(set(s.features))
    kept = sorted({*(f for f, n in df.items() if n >= min_df), *OOV_FEATURES})
    return {f: i for i, f in enumerate(kept)}


def _fit(x: sparse.csr_matrix, y: npt.NDArray[np.int64], c: float) -> LogisticRegression:
    clf = LogisticRegression(C=c, max_iter=2000, tol=1e-5, solver="lbfgs")
    clf.fit(x, y)
    return clf


def _folds(y: npt.NDArray[np.int64], folds: int, seed: int) -> npt.NDArray[np.int64]:
    """Stratified fold numbers: each class spread evenly, order fixed by the seed."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(y), dtype=np.int64)
    for label in np.unique(y):
        members = np.flatnonzero(y == label)
        members = members[rng.permutation(len(members))]
        fold[members] = np.arange(len(members)) % folds
    return fold


def _out_of_fold(
    x: sparse.csr_matrix,
    y: npt.NDArray[np.int64],
    fold: npt.NDArray[np.int64],
    folds: int,
    n_classes: int,
    c: float,
) -> npt.NDArray[np.float64]:
    """Logits of each message from a model that did not see its fold (rows of fold -1 stay 0)."""
    oof = np.zeros((len(y), n_classes))
    for k in range(folds):
        test = fold == k
        clf = _fit(x[~test], y[~test], c)
        part = np.full((int(test.sum()), n_classes), -30.0)
        part[:, clf.classes_] = clf.decision_function(x[test])
        oof[test] = part
    return oof


def train(
    files: Sequence[Path], *, seed: int = SEED, c: float = C, min_df: int = MIN_DF, folds: int = 0
) -> tuple[Model, dict[str, object]]:
    """Fit on ``files``; ``folds`` > 1 also reports a stratified cross-validation accuracy."""
    # One BLAS/OpenMP thread: on a shared 2-core machine more threads make each solver step many
    # times slower, and one thread keeps the arithmetic order (so the parameters) the same every run.
    with threadpool_limits(limits=1):
        return _train(files, seed=seed, c=c, min_df=min_df, folds=folds)


def _train(
    files: Sequence[Path], *, seed: int, c: float, min_df: int, folds: int
) -> tuple[Model, dict[str, object]]:
    started = time.perf_counter()
    samples = load_samples(files)
    classes = tuple(name for name in INTENTS if any(s.intent == name for s in samples))
    label = {name: i for i, name in enumerate(classes)}
    y = np.array([label[s.intent] for s in samples], dtype=np.int64)
    vocabulary = _vocabulary(samples, min_df)
    x = _matrix(samples, vocabulary)

    oof: npt.NDArray[np.float64] | None = None
    if folds > 1:
        oof = _out_of_fold(x, y, _folds(y, folds, seed), folds, len(classes), c)
    # The temperature comes from messages people wrote (not generated), each file predicted by a model
    # trained on all the others: generated paraphrases share templates across folds, which would make
    # the model look surer than it is on phrasings nobody has written yet.
    written = sorted({s.source for s in samples if not s.source.startswith("gen_")})
    if len(written) >= 2:
        groups = np.array([written.index(s.source) if s.source in written else -1 for s in samples])
        calib = _out_of_fold(x, y, groups, len(written), len(classes), c)
        mask = groups >= 0
        temperature = fit_temperature(calib[mask], y[mask])
        calib_accuracy = float((calib[mask].argmax(axis=1) == y[mask]).mean())
    else:
        if oof is None:
            oof = _out_of_fold(x, y, _folds(y, FOLDS, seed), FOLDS, len(classes), c)
        temperature = fit_temperature(oof, y)
        calib_accuracy = float((oof.argmax(axis=1) == y).mean())
    cv_accuracy = float((oof.argmax(axis=1) == y).mean()) if oof is not None else None

    clf = _fit(x, y, c)
    weights = np.zeros((len(vocabulary), len(classes)), dtype=np.float32)
    bias = np.zeros(len(classes), dtype=np.float32)
    order = [int(i) for i in clf.classes_]
    weights[:, order] = clf.coef_.T.astype(np.float32)
    bias[order] = clf.intercept_.astype(np.float32)

    rules: dict[str, dict[str, float | int]] = {}
    for s in samples:
        if s.rule is None:
            continue
        name, intent = s.rule
        entry = rules.setdefault(name, {"fired": 0, "right": 0})
        entry["fired"] = int(entry["fired"]) + 1
        entry["right"] = int(entry["right"]) + (intent == s.intent)
    for entry in rules.values():
        # Laplace estimate, capped: a rule right 300 times out of 300 is still not certain.
        entry["confidence"] = min(0.99, (int(entry["right"]) + 1) / (int(entry["fired"]) + 2))

    meta: dict[str, object] = {
        "corpus_hash": corpus_hash(),
        "seed": seed,
        "C": c,
        "min_df": min_df,
        "folds": folds,
        "examples": len(samples),
        "features": len(vocabulary),
        "cv_accuracy": None if cv_accuracy is None else round(cv_accuracy, 4),
        "calibration_files": written,
        "calibration_accuracy": round(calib_accuracy, 4),
        "rules": rules,
        "files": [p.name for p in files],
    }
    model = Model(classes, vocabulary, weights, bias, temperature, meta)
    stats = {**meta, "temperature": temperature, "seconds": round(time.perf_counter() - started, 1)}
    return model, stats


def default_files() -> list[Path]:
    return corpus_files()
