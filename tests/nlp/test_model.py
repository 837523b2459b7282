"""The classifier: deterministic training, numpy-only loading, calibration arithmetic."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from config.settings import PROJECT_ROOT
from nlp.model import CORPUS_DIR, Model, features, fit_temperature, reliability, softmax


def test_training_is_deterministic(tmp_path: Path) -> None:
    from nlp.train import train  # scikit-learn: only here, never in the web process

    files = [CORPUS_DIR / "tuned_holdout.txt"]
    first, _ = train(files)
    second, _ = train(files)
    first.save(tmp_path / "a.npz")
    second.save(tmp_path / "b.npz")
    a, b = Model.load(tmp_path / "a.npz"), Model.load(tmp_path / "b.npz")
    assert a.classes == b.classes
    assert a.vocabulary == b.vocabulary
    assert np.array_equal(a.weights, b.weights)
    assert np.array_equal(a.bias, b.bias)
    assert a.temperature == b.temperature
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()


def test_saved_parameters_round_trip_without_pickle(tmp_path: Path) -> None:
    model = Model(
        classes=("vote", "help"),
        vocabulary={"投": 0, "你好": 1},
        weights=np.array([[2.0, -1.0], [-1.0, 3.0]], dtype=np.float32),
        bias=np.array([0.1, -0.1], dtype=np.float32),
        temperature=1.5,
        meta={"seed": 1},
    )
    model.save(tmp_path / "m.npz")
    with np.load(tmp_path / "m.npz", allow_pickle=False) as data:  # plain arrays only
        assert set(data.files) == {"classes", "vocabulary", "weights", "bias", "temperature", "meta"}
    loaded = Model.load(tmp_path / "m.npz")
    p = loaded.probabilities(["投"])
    # two features: 投 and the unseen-share indicator (not in this vocabulary), so each weighs 1/√2
    expected = softmax(np.array([2 / np.sqrt(2) + 0.1, -1 / np.sqrt(2) - 0.1]), 1.5)
    assert p["vote"] == pytest.approx(expected[0], rel=1e-6)
    assert loaded.probabilities(["未见过"])["vote"] == pytest.approx(softmax(np.array([0.1, -0.1]), 1.5)[0])


LOADS_WITHOUT_SKLEARN = """
import sys
from nlp import Router
from nlp.examples import read_brands
from pathlib import Path
router = Router(read_brands(Path(sys.argv[1])))
intent = router.route("投票给工惠乐学")
assert intent.name == "vote", intent
bad = sorted(m for m in sys.modules if m.split(".")[0] in ("sklearn", "scipy", "threadpoolctl"))
assert not bad, bad
print("ok")
"""


def test_router_loads_the_model_without_sklearn() -> None:
    brands = PROJECT_ROOT / "tests" / "data" / "router_brands.txt"
    result = subprocess.run(
        [sys.executable, "-c", LOADS_WITHOUT_SKLEARN, str(brands)],
        capture_output=True,
        text=True,
        cwd=PROJECT_ROOT,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_reliability_and_ece_on_a_tiny_case() -> None:
    rows, ece = reliability([0.9, 0.9, 0.6, 0.6], [True, False, True, True])
    filled = {(round(low, 1), round(high, 1)): (n, conf, acc) for low, high, n, conf, acc in rows if n}
    assert filled == {(0.8, 0.9): (2, pytest.approx(0.9), 0.5), (0.5, 0.6): (2, pytest.approx(0.6), 1.0)}  # type: ignore[comparison-overlap]  # approx equals a float
    # half the messages 0.4 too sure, half 0.4 too unsure
    assert ece == pytest.approx(0.4)
    _, perfect = reliability([1.0, 1.0, 0.5, 0.5], [True, True, True, False])
    assert perfect == pytest.approx(0.0)


def test_temperature_recovers_a_known_one() -> None:
    rng = np.random.default_rng(7)
    logits = rng.normal(0, 3, size=(4000, 4))
    true_t = 2.0
    p = softmax(logits, true_t)
    labels = np.array([rng.choice(4, p=row) for row in p])
    assert fit_temperature(logits, labels) == pytest.approx(true_t, rel=0.1)


def test_features_mask_what_must_not_matter() -> None:
    # punctuation (voice transcripts have none) and the exact candidate number do not change features
    assert features("投3号！", ["投", "3", "号"]) == features("投8号", ["投", "8", "号"])
    assert "w:投诉" in features("投诉食堂", ["投诉", "食堂"])
    codes = features("绑定 ab12cd", ["绑定", "ab12cd"])
    assert "Ⓒ" in codes and not any("ab" in f for f in codes)
