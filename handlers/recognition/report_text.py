"""A report as the CLI and the exports print it: the CSV rows and the plain-text table."""

from __future__ import annotations

import io
from typing import Any

from handlers.cells import SafeCsvWriter


def csv_text(report: dict[str, Any]) -> str:
    """CSV export: every row carries n, interval, status and the method version.

    See docs/method/disclosure.md §2.
    """
    buf = io.StringIO()
    writer = SafeCsvWriter(buf)
    writer.writerow(
        [
            "活动",
            "品牌",
            "社会认可度",
            "可信区间下限",
            "可信区间上限",
            "状态",
            "分档",
            "名次区间",
            "有效评价数",
            "参与热度",
            "待核查",
            "含待核查指数",
            "方法版本",
        ]
    )
    for b in report["brands"]:
        ci = b["ci"] or [None, None]
        rr = b["rank_range"]
        writer.writerow(
            [
                report["campaign"],
                b["brand"],
                "" if b["index"] is None else f"{b['index']:.1f}",
                "" if ci[0] is None else f"{ci[0]:.1f}",
                "" if ci[1] is None else f"{ci[1]:.1f}",
                b["status"],
                b["tier"] or "",
                f"第{rr[0]}–{rr[1]}位" if rr else "",
                b["ratings"],
                b["heat"],
                b["suspect"],
                "" if b["index_with_suspects"] is None else f"{b['index_with_suspects']:.1f}",
                report["method_version"],
            ]
        )
    writer.writerow([report["disclosure"]])
    return buf.getvalue()


def table_text(report: dict[str, Any]) -> str:
    lines = [f"活动：{report['campaign']}（{report['label']}）  方法版本 v{report['method_version']}"]
    lines.append(
        "品牌 | 社会认可度 [95%可信区间] | 状态 | 分档 | 名次 | 有效评价 | 参与热度 | 待核查 | 含待核查"
    )
    for b in report["brands"]:
        value = "样本不足" if b["index"] is None else f"{b['index']:.1f} [{b['ci'][0]:.1f}, {b['ci'][1]:.1f}]"
        rr = f"第{b['rank_range'][0]}–{b['rank_range'][1]}位" if b["rank_range"] else "—"
        alt = "—" if b["index_with_suspects"] is None else f"{b['index_with_suspects']:.1f}"
        lines.append(
            f"{b['brand']} | {value} | {b['status']} | {b['tier'] or '—'} | {rr} | {b['ratings']} | "
            f"{b['heat']} | {b['suspect']} | {alt}"
        )
        if b["shortfall"]:
            lines.append(f"    {b['shortfall']}")
    lines.append(f"{report['heat_title']}：参与热度为投票次数，仅反映动员情况。")
    lines.append(report["disclosure"])
    return "\n".join(lines)
