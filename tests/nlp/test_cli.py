"""``python -m nlp route`` / ``eval`` as operators run them (a real subprocess)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from config.settings import PROJECT_ROOT
from nlp.examples import read_examples
from nlp.model import CORPUS_DIR, loaded_path
from tests.nlp.conftest import BRANDS_FILE


def run(args: list[str], stdin: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    # ROUTER_MODEL: the parameters this test process already loaded (TMPDIR moves the default cache).
    env = {
        **os.environ,
        "PYTHONIOENCODING": "utf-8",
        "TMPDIR": str(tmp_path),
        "ROUTER_MODEL": str(loaded_path()),
    }
    return subprocess.run(
        [sys.executable, "-m", "nlp", *args],
        input=stdin,
        capture_output=True,
        text=True,
        encoding="utf-8",
        cwd=PROJECT_ROOT,
        env=env,
        timeout=60,
        check=False,
    )


def test_route_one_json_object_per_line(tmp_path: Path) -> None:
    messages = [
        "投票给工惠乐学",
        "投3号",
        "",
        "建议：食堂增加夜班餐（匿名）",
        "JY20261121-0042",
        "绑定 AB12CD",
    ]
    result = run(
        ["route", "--brands", str(BRANDS_FILE), "--cache-dir", str(tmp_path / "cache")],
        "\n".join(messages) + "\n",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert len(rows) == len(messages)
    for row in rows:
        assert list(row) == [
            "intent",
            "brand",
            "number",
            "score",
            "ticket",
            "text",
            "anonymous",
            "confidence",
            "alternatives",
        ]
        assert 0 <= row["confidence"] <= 1
        assert isinstance(row["alternatives"], list) and len(row["alternatives"]) <= 3
    assert rows[0]["intent"] == "vote" and rows[0]["brand"] == "工惠乐学"
    assert {k: v for k, v in rows[1].items() if k not in ("confidence", "alternatives")} == {
        "intent": "vote",
        "brand": "四季服务",  # line 3 of the brands file
        "number": 3,
        "score": None,
        "ticket": None,
        "text": None,
        "anonymous": False,
    }
    assert rows[2]["intent"] == "unknown"
    assert rows[3]["intent"] == "suggest" and rows[3]["anonymous"] is True
    assert rows[3]["text"] == "食堂增加夜班餐"
    assert rows[4]["ticket"] == "JY20261121-0042"
    assert rows[5]["text"] == "AB12CD"
    # jieba's cache went where we said, not into the repository
    assert (tmp_path / "cache" / "jieba.cache").is_file()
    # (instance/ is the service's own writable, git-ignored directory: a demo run puts its cache there)
    stray = [
        p for p in PROJECT_ROOT.glob("**/jieba*.cache") if "instance" not in p.relative_to(PROJECT_ROOT).parts
    ]
    assert not stray


def test_route_bad_brands_file(tmp_path: Path) -> None:
    brands = tmp_path / "brands.txt"
    brands.write_text("工惠乐学\n|乐学\n", encoding="utf-8")
    result = run(["route", "--brands", str(brands)], "投票\n", tmp_path)
    assert result.returncode == 2
    assert "第 2 行" in result.stderr and "品牌名为空" in result.stderr


def test_eval_prints_confusion_report(tmp_path: Path) -> None:
    result = run(["eval", str(CORPUS_DIR / "tuned_holdout.txt"), "--min-intent", "0.97"], "", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "意图准确率" in result.stdout and "品牌准确率" in result.stdout
    assert "标注＼结果" in result.stdout
    for label in ("投票(vote)", "取消(cancel)", "未知(unknown)"):
        assert label in result.stdout


def test_eval_prints_reliability_ece_and_silent_wrong_rate(tmp_path: Path) -> None:
    labelled = tmp_path / "two.txt"
    labelled.write_text(
        f"@brands {BRANDS_FILE}\nvote | 工惠乐学 | | 投票给工惠乐学\nhelp | | | 投票给工惠乐学\n",
        encoding="utf-8",
    )
    result = run(["eval", str(labelled), str(CORPUS_DIR / "tuned_holdout.txt")], "", tmp_path)
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "置信度可靠性" in out and "平均置信度" in out
    assert re.search(r"期望校准误差（ECE，10 档）：0\.\d{3}", out)
    # the second line is labelled help but routed (surely) to vote: a silent wrong action
    assert re.search(r"静默误操作率：\d+\.\d\d%（[1-9]\d*/", out)
    assert "two.txt第 3 行「投票给工惠乐学」" in out
    assert f"样本数：{2 + len(read_examples(CORPUS_DIR / 'tuned_holdout.txt')[0])}" in out


def test_explain_shows_the_steps(tmp_path: Path) -> None:
    result = run(["explain", "--brands", str(BRANDS_FILE), "麻烦问一下，查保促进度怎么样了？"], "", tmp_path)
    assert result.returncode == 0, result.stderr
    assert "查保促（exact，1）" in result.stdout
    assert "打分文本：Ⓑ进度怎么样了?" in result.stdout
    assert '"intent": "status"' in result.stdout


def test_eval_threshold_fails(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text(f"@brands {BRANDS_FILE}\nhelp | | | 投票给工惠乐学\n", encoding="utf-8")
    result = run(["eval", str(bad), "--min-intent", "0.97"], "", tmp_path)
    assert result.returncode == 1
    assert "未通过的样本（1 条）" in result.stdout


def test_eval_malformed_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.txt"
    bad.write_text("voting | 投票\n", encoding="utf-8")
    result = run(["eval", str(bad)], "", tmp_path)
    assert result.returncode == 2
    assert "格式错误" in result.stderr


def test_train_rejects_a_malformed_extra_file(tmp_path: Path) -> None:
    bad = tmp_path / "labels.txt"
    bad.write_text(f"@brands {BRANDS_FILE}\nvote | | 投票\n", encoding="utf-8")
    result = run(["train", "--extra", str(bad), "--out", str(tmp_path / "m.npz")], "", tmp_path)
    assert result.returncode == 2
    assert "第 2 行格式错误" in result.stderr
    assert not (tmp_path / "m.npz").exists()


def test_train_takes_extra_labelled_files(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from nlp.cli import main
    from nlp.model import Model, corpus_files

    extra = tmp_path / "dashboard_labels.txt"
    extra.write_text(f"@brands {BRANDS_FILE}\nsuggest | | | 澡堂的热水忽冷忽热\n", encoding="utf-8")
    out = tmp_path / "model.npz"
    assert main(["train", "--extra", str(extra), "--extra", str(extra), "--out", str(out)]) == 0
    assert "已训练" in capsys.readouterr().out
    meta = Model.load(out).meta
    base = sum(len(read_examples(p)[0]) for p in corpus_files())
    assert meta["examples"] == base + 2
    assert meta["files"] == [*(p.name for p in corpus_files()), extra.name, extra.name]
    # --if-missing never skips when extra labels are given, and skips when the file is current
    assert main(["train", "--if-missing", "--out", str(out)]) == 0
    assert "不重新训练" in capsys.readouterr().out
