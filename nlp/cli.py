"""``python -m nlp route`` and ``python -m nlp eval``: the router on files, for operators.

route: BRANDS.txt (one brand per line, ``name`` or ``name|alias1|alias2``; the i-th brand line is
candidate number i) and messages on stdin → one JSON object per message on stdout.
eval: a labelled file (format in tests/data/router_eval.txt) → accuracy and a confusion report.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TextIO

import yaml

from nlp.examples import Example, InputError, read_brands, read_examples
from nlp.intent import INTENTS, Intent
from nlp.model import reliability
from nlp.router import POLICY_FILE, Router


def route_candidate(router: Router, text: str) -> Intent:
    """Route, then read a typed candidate number against the brand list (line i = number i)."""
    intent = router.route(text)
    brands = router.brands
    number = intent.number
    if intent.name == "vote" and intent.brand is None and number is not None and 1 <= number <= len(brands):
        intent = replace(intent, brand=brands[number - 1].name)
    return intent


def route_stream(router: Router, lines: Iterable[str], out: TextIO) -> int:
    count = 0
    for line in lines:
        intent = route_candidate(router, line.rstrip("\r\n"))
        row = {
            **intent.as_json(),
            "confidence": round(intent.confidence, 4),
            "alternatives": list(intent.alternatives),
        }
        out.write(json.dumps(row, ensure_ascii=False) + "\n")
        count += 1
    return count


# -- evaluation -------------------------------------------------------------------------------


@dataclass
class Report:
    total: int
    intent_ok: int
    brand_ok: int
    args_ok: int
    confusion: Counter[tuple[str, str]]
    failures: list[tuple[Example, Intent, list[str]]]
    # per message: (confidence, intent right?, a recording intent acted on wrongly at ≥ act?)
    outcomes: list[tuple[float, bool, bool]] = field(default_factory=list)
    act: float = 0.85
    recording: tuple[str, ...] = ()

    @property
    def silent_wrong(self) -> int:
        return sum(1 for *_, silent in self.outcomes if silent)

    @property
    def silent_wrong_rate(self) -> float:
        return self.silent_wrong / self.total if self.total else 0.0

    def calibration(self, bins: int = 10) -> tuple[list[tuple[float, float, int, float, float]], float]:
        return reliability([c for c, _, _ in self.outcomes], [ok for _, ok, _ in self.outcomes], bins)

    def merge(self, other: Report) -> Report:
        return Report(
            self.total + other.total,
            self.intent_ok + other.intent_ok,
            self.brand_ok + other.brand_ok,
            self.args_ok + other.args_ok,
            self.confusion + other.confusion,
            self.failures + other.failures,
            self.outcomes + other.outcomes,
            self.act,
            self.recording,
        )

    @property
    def intent_accuracy(self) -> float:
        return self.intent_ok / self.total if self.total else 0.0

    @property
    def brand_accuracy(self) -> float:
        return self.brand_ok / self.total if self.total else 0.0

    @property
    def args_accuracy(self) -> float:
        return self.args_ok / self.total if self.total else 0.0


def read_policy(path: Path = POLICY_FILE) -> tuple[float, float, tuple[str, ...]]:
    """(act, ask, recording intents) from config/router/policy.yaml."""
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    return float(data["act"]), float(data["ask"]), tuple(str(i) for i in data["recording_intents"])


def evaluate(router: Router, examples: Sequence[Example]) -> Report:
    act, _ask, recording = read_policy()
    report = Report(len(examples), 0, 0, 0, Counter(), [], [], act, recording)
    for ex in examples:
        got = route_candidate(router, ex.message)
        problems = []
        right = got.name == ex.intent
        silent = not right and got.name in recording and got.confidence >= act
        report.outcomes.append((got.confidence, right, silent))
        report.confusion[(ex.intent, got.name)] += 1
        if got.name == ex.intent:
            report.intent_ok += 1
        else:
            problems.append(f"意图 {got.name}≠{ex.intent}")
        if got.brand == ex.brand:
            report.brand_ok += 1
        else:
            problems.append(f"品牌 {got.brand}≠{ex.brand}")
        wrong_args = [
            f"{key} {mine!r}≠{want!r}"
            for key, mine, want in (
                ("number", got.number, ex.number),
                ("score", got.score, ex.score),
                ("ticket", got.ticket, ex.ticket),
                ("anonymous", got.anonymous, ex.anonymous),
                ("text", got.text, ex.text if ex.text is not None else got.text),
            )
            if mine != want
        ]
        if not wrong_args:
            report.args_ok += 1
        problems.extend(wrong_args)
        if problems:
            report.failures.append((ex, got, problems))
    return report


_LABELS = {
    "vote": "投票",
    "list": "候选",
    "status": "查询",
    "suggest": "建议",
    "survey": "问卷",
    "progress": "进度",
    "bind": "绑定",
    "help": "帮助",
    "cancel": "取消",
    "unknown": "未知",
}


def format_report(report: Report) -> str:
    out = [
        f"样本数：{report.total}",
        f"意图准确率：{report.intent_accuracy:.1%}（{report.intent_ok}/{report.total}）",
        f"品牌准确率：{report.brand_accuracy:.1%}（{report.brand_ok}/{report.total}）",
        f"参数准确率：{report.args_accuracy:.1%}（{report.args_ok}/{report.total}）",
        "",
        "按意图（行：标注，列：路由结果）：",
    ]
    header = "标注＼结果".ljust(8) + "".join(_LABELS[i].rjust(5) for i in INTENTS) + "   样本  准确率  召回率"
    out.append(header)
    for expected in INTENTS:
        row_total = sum(report.confusion[(expected, got)] for got in INTENTS)
        predicted_total = sum(report.confusion[(other, expected)] for other in INTENTS)
        correct = report.confusion[(expected, expected)]
        cells = "".join(str(report.confusion[(expected, got)] or ".").rjust(6) for got in INTENTS)
        precision = f"{correct / predicted_total:.0%}" if predicted_total else "-"
        recall = f"{correct / row_total:.0%}" if row_total else "-"
        out.append(
            f"{_LABELS[expected]}({expected})".ljust(14) + cells + f"{row_total:7d}{precision:>7}{recall:>8}"
        )
    rows, ece = report.calibration()
    out += [
        "",
        "置信度可靠性（置信度 = 路由认为意图正确的概率；校准良好时每档的平均置信度≈准确率）：",
        "  置信度区间      样本  平均置信度  准确率",
    ]
    for low, high, count, mean_conf, accuracy in rows:
        if count:
            out.append(f"  ({low:.1f}, {high:.1f}]  {count:8d}  {mean_conf:9.1%}  {accuracy:7.1%}")
    out.append(f"期望校准误差（ECE，10 档）：{ece:.3f}")
    out.append(
        f"静默误操作率：{report.silent_wrong_rate:.2%}（{report.silent_wrong}/{report.total}；"
        f"意图错误、置信度 ≥ {report.act:g}（policy.yaml 的 act）且是记录类意图 "
        f"{'、'.join(report.recording)}，机器人会不经确认直接执行）"
    )
    if report.failures:
        out.append("")
        out.append(f"未通过的样本（{len(report.failures)} 条）：")
        for ex, got, problems in report.failures:
            where = f"{ex.source}第 {ex.line} 行" if ex.source else f"第 {ex.line} 行"
            out.append(f"  {where}「{ex.message}」：{'；'.join(problems)}（置信度 {got.confidence:.2f}）")
    return "\n".join(out)


def explain(router: Router, message: str) -> str:
    a = router.analyse(message)
    intent = route_candidate(router, message)
    rule = router.rule(a)
    router.route_analysed(a)  # fills the classifier's probabilities
    scores = "，".join(
        f"{name} {score:.3f}" for name, score in sorted(a.scores.items(), key=lambda kv: -kv[1])
    )
    brands = "，".join(f"{m.name}（{m.kind}，{m.confidence:g}）" for m in a.brands)
    return "\n".join(
        [
            f"消息：{message}",
            f"  归一化：{a.cleaned}",
            f"  分词：{' / '.join(a.tokens) or '（无）'}",
            f"  品牌：{brands or '（无）'}",
            f"  打分文本：{a.masked}",
            f"  分类器概率：{scores or '（无）'}",
            f"  规则：{rule[0] + ' → ' + rule[1] if rule else '（无，按分类器）'}",
            f"  结果：{json.dumps(intent.as_json(), ensure_ascii=False)}，"
            f"置信度 {intent.confidence:.3f}，其次 {list(intent.alternatives)}，"
            f"反问选项 {list(intent.suggestions)}",
        ]
    )


def _train(extra: Sequence[Path], out: Path | None, *, if_missing: bool = False) -> int:
    from nlp import model as model_module

    target = out or model_module.default_model_path()
    if if_missing and not extra and target.is_file():
        sys.stdout.write(f"参数文件已是当前语料的版本，不重新训练：{target}\n")
        return 0
    # scikit-learn is imported here only: the web process loads the parameters with numpy.
    from nlp.train import default_files, train

    for path in extra:
        if not path.is_file():
            raise InputError(f"找不到标注文件 {path}。")
        read_examples(path)  # a malformed file fails here, with its line number
    files = [*default_files(), *extra]
    model, stats = train(files)
    model.save(target)
    accuracy = float(stats["calibration_accuracy"])  # type: ignore[arg-type]
    temperature = float(stats["temperature"])  # type: ignore[arg-type]
    sys.stdout.write(
        f"已训练：{stats['examples']} 条样本（{len(files)} 个文件），{stats['features']} 个特征，"
        f"人写的语料逐文件留出的准确率 {accuracy:.1%}，温度 {temperature:.3f}，"
        f"用时 {stats['seconds']} 秒。\n参数文件：{target}\n"
    )
    return 0


# -- entry point ------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp", description="工会品牌通消息路由")
    sub = parser.add_subparsers(dest="command", required=True)
    route_p = sub.add_parser("route", help="路由标准输入中的消息（每行一条），输出 JSON Lines")
    route_p.add_argument("--brands", type=Path, required=True, help="品牌文件：每行「名称|别名1|别名2」")
    route_p.add_argument("--cache-dir", type=Path, default=None, help="jieba 缓存目录（默认系统临时目录）")
    explain_p = sub.add_parser("explain", help="显示路由对一条消息的分析过程（调词表时用）")
    explain_p.add_argument("--brands", type=Path, required=True, help="品牌文件：每行「名称|别名1|别名2」")
    explain_p.add_argument("messages", nargs="+", help="要分析的消息")
    train_p = sub.add_parser("train", help="用标注语料训练意图分类器（确定性，固定随机种子）")
    train_p.add_argument(
        "--extra", type=Path, action="append", default=[], help="额外的标注文件（格式同语料，可重复）"
    )
    train_p.add_argument("--out", type=Path, default=None, help="参数文件（默认：按语料哈希命名的缓存文件）")
    train_p.add_argument(
        "--if-missing", action="store_true", help="参数文件已存在时不重训（make install 用）"
    )
    eval_p = sub.add_parser("eval", help="在标注文件上评测路由，打印分意图的混淆报告、可靠性表和校准误差")
    eval_p.add_argument("files", type=Path, nargs="+")
    eval_p.add_argument("--brands", type=Path, default=None, help="品牌文件（默认用评测文件中的 @brands）")
    eval_p.add_argument("--min-intent", type=float, default=None, help="意图准确率低于此值时返回 1")
    eval_p.add_argument("--min-brand", type=float, default=None, help="品牌准确率低于此值时返回 1")
    args = parser.parse_args(argv)

    try:
        if args.command == "route":
            started = time.perf_counter()
            Router.warm_up(args.cache_dir)
            router = Router(read_brands(args.brands))
            sys.stdin.reconfigure(encoding="utf-8", errors="replace")  # type: ignore[union-attr]
            sys.stdout.reconfigure(encoding="utf-8")  # type: ignore[union-attr]
            count = route_stream(router, sys.stdin, sys.stdout)
            sys.stdout.flush()
            elapsed = time.perf_counter() - started
            sys.stderr.write(f"已路由 {count} 条消息，用时 {elapsed:.2f} 秒。\n")
            return 0
        if args.command == "explain":
            router = Router(read_brands(args.brands))
            for message in args.messages:
                sys.stdout.write(explain(router, message) + "\n")
            return 0
        if args.command == "train":
            return _train(args.extra, args.out, if_missing=args.if_missing)
        report: Report | None = None
        for path in args.files:
            examples, brands_path = read_examples(path)
            brands_file = args.brands or brands_path
            if brands_file is None:
                raise InputError(
                    "评测需要品牌文件：请用 --brands 指定，或在评测文件中写一行「@brands 文件名」。"
                )
            part = evaluate(Router(read_brands(brands_file)), examples)
            report = part if report is None else report.merge(part)
        assert report is not None
        sys.stdout.write(format_report(report) + "\n")
        below = (args.min_intent is not None and report.intent_accuracy < args.min_intent) or (
            args.min_brand is not None and report.brand_accuracy < args.min_brand
        )
        return 1 if below else 0
    except InputError as exc:
        sys.stderr.write(f"错误：{exc}\n")
        return 2
