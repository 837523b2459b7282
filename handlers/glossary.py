"""The words users read for codes: audit-log actions, statuses and respondent groups.

Code compares codes (``"provisional"``, ``FlagStatus.WATCH``, ``"W"``); pages, exports and replies
show the label from here, so a code reads the same everywhere. A table that several domains fill
is built with ``merge``: a key given two different texts is an error at import, not a page whose
wording depends on which module was imported last.
"""

from __future__ import annotations

from collections.abc import Mapping

from models.recognition import FlagStatus


class GlossaryError(ValueError):
    """The same key was given two different labels."""


def merge(*tables: Mapping[str, str]) -> dict[str, str]:
    """One table from several; a key may repeat only with the same text."""
    out: dict[str, str] = {}
    for table in tables:
        for key, text in table.items():
            if key in out and out[key] != text:
                raise GlossaryError(f"label {key!r} is defined twice: {out[key]!r} and {text!r}")
            out[key] = text
    return out


# --- audit-log actions (操作日志), by domain ---------------------------------------------------

ACCOUNT_ACTIONS = {
    "account.login": "登录",
    "account.create": "创建账号",
    "account.activate": "启用账号",
    "account.deactivate": "停用账号",
    "account.password": "修改密码",
    "account.reset_password": "重置密码",
    "token.create": "创建接口令牌",
    "token.revoke": "作废接口令牌",
}
PROGRAMME_ACTIONS = {
    "brand.review": "上级评议",
    "brand.plan": "提交创建方案",
    "brand.self_evaluate": "提交自评",
    "brand.advance": "变更品牌阶段",
    "import.orgs": "导入工会组织",
    "import.brands": "导入工作品牌",
    "invitation.create": "生成干部邀请码",
}
RECOGNITION_ACTIONS = {
    "campaign.create": "创建活动",
    "campaign.close": "结束活动",
    "campaign.invite_reviewer": "邀请党政评议人",
    "recognition.flag_confirm": "确认排除可疑答卷",
    "recognition.flag_restore": "恢复计入可疑答卷",
    "recognition.flag_propose": "提出复核意见（待第二位复核人）",
    "recognition.check_escalate": "换票圈升级为品牌核查",
    "recognition.check_appeal": "工会对核查结论申诉",
    "recognition.check_close": "结束品牌核查",
}
SUGGESTION_ACTIONS = {
    "suggestion.accept": "受理建议",
    "suggestion.start": "开始办理建议",
    "suggestion.answer": "答复建议",
    "suggestion.transfer": "转办建议",
    "suggestion.reject": "不予受理建议",
}
SURVEY_ACTIONS = {"survey.open": "开启问卷", "survey.close": "关闭问卷"}
LEARNING_ACTIONS = {"inbound.label": "标注消息意图"}

ACTION_LABELS = merge(
    ACCOUNT_ACTIONS,
    PROGRAMME_ACTIONS,
    RECOGNITION_ACTIONS,
    SUGGESTION_ACTIONS,
    SURVEY_ACTIONS,
    LEARNING_ACTIONS,
)


def action_label(action: str) -> str:
    """The log's 操作 column: the label, or the code itself for an action without one."""
    return ACTION_LABELS.get(action, action)


# --- respondent groups --------------------------------------------------------------------------

# One vocabulary, two lengths. The short names head the 社会认可度 tables and badges (职工 评价 12);
# the full names are the survey reports' (有效答卷：职工群众 40 份，…). Same codes, same order as
# each output has always listed them.
GROUP_LABELS = {"W": "职工", "S": "公众", "G": "党政"}
SURVEY_GROUP_LABELS = {"W": "职工群众", "G": "党委政府", "S": "社会各界"}


def group_label(code: str) -> str:
    return GROUP_LABELS.get(code, code)


# --- statuses ---------------------------------------------------------------------------------

# A brand's 社会认可度 status (codes of handlers.recognition.estimators) and tier (A/B/C).
RECOGNITION_STATUS_LABELS = {
    "insufficient": "样本不足",
    "provisional": "暂定",
    "ok": "正常",
    "under_review": "数据核查中",
}
TIER_LABELS = {"A": "推荐推广", "B": "与平均水平无显著差异", "C": "重点提升"}
# A campaign as of now (see handlers.recognition.scoped_queries.campaign_state).
CAMPAIGN_STATE_LABELS = {"scheduled": "未开始", "open": "进行中", "closed": "已结束"}
# A suspicious-response flag, and what an adjudicator may decide about one.
FLAG_STATUS_LABELS = {
    FlagStatus.WATCH: "观察",
    FlagStatus.SUSPECT: "可疑（暂不计入）",
    FlagStatus.QUALITY_EXCLUDED: "质量排除",
    FlagStatus.EXCLUDED_FRAUD: "确认排除",
    FlagStatus.RESTORED: "已恢复计入",
}
FLAG_DECISION_LABELS = {"confirm": "确认排除", "restore": "恢复计入"}
# A brand check (品牌核查) that has not ended.
CHECK_STATE_LABELS = {"open": "进行中", "overdue": "已逾期"}
# Who decided a flag when no person did.
SYSTEM_LABEL = "系统"
