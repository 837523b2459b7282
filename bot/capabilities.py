"""What the official account may do, from its type and verification, decided once at start-up.

WeChat grants web sign-in (网页授权), customer-service messages and template messages by account
type and verification: a feature the account cannot use is switched off here, with a start-up line
saying so, so that nothing fails at run time. The rules are 公众平台's permission list
(接口权限): web sign-in and template messages need a verified service account (认证服务号);
customer-service and one-time subscription messages need a verified account of either type.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import ACCOUNT_TYPES, Settings


@dataclass(frozen=True)
class Capabilities:
    account_type: str
    verified: bool
    oauth: bool
    customer_service: bool
    template: bool
    subscribe_message: bool
    template_answer_id: str | None = None
    subscribe_template_id: str | None = None

    @property
    def label(self) -> str:
        kind = ACCOUNT_TYPES.get(self.account_type, self.account_type)
        return f"{'已认证' if self.verified else '未认证'}{kind}"

    def startup_lines(self) -> list[str]:
        """One Chinese line per switched-off feature, for the operator's start-up log."""
        lines: list[str] = []
        if not self.oauth:
            lines.append(
                f"公众号类型为{self.label}：不能使用网页授权，"
                "H5 页面改用聊天中发出的一次性登录链接（10 分钟有效）。"
            )
        if not self.customer_service:
            lines.append(f"公众号类型为{self.label}：不能发送客服消息，答复在职工下次发消息时送达。")
        if not self.template:
            if self.account_type != "service" or not self.verified:
                lines.append(f"公众号类型为{self.label}：不能发送模板消息，48 小时后的答复改用其他方式送达。")
            else:
                lines.append("未配置 WECHAT_TEMPLATE_ANSWER_ID：模板消息已关闭。")
        if not self.subscribe_message and self.verified:
            lines.append("未配置 WECHAT_SUBSCRIBE_TEMPLATE_ID：一次性订阅消息已关闭。")
        return lines


def capabilities(settings: Settings) -> Capabilities:
    service = settings.account_type == "service"
    verified = settings.account_verified
    return Capabilities(
        account_type=settings.account_type,
        verified=verified,
        oauth=service and verified,
        customer_service=verified,
        template=service and verified and bool(settings.template_answer_id),
        subscribe_message=verified and bool(settings.subscribe_template_id),
        template_answer_id=settings.template_answer_id,
        subscribe_template_id=settings.subscribe_template_id,
    )
