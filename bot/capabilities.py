"""What the official account may do, from its type and verification, decided once at start-up.

WeChat grants web sign-in (网页授权), customer-service messages and template messages by account
type and verification: a feature the account cannot use is switched off here, with a start-up line
saying so, so that nothing fails at run time. The rules are 公众平台's permission list
(接口权限): web sign-in and template messages need a verified service account (认证服务号);
customer-service and one-time subscription messages need a verified account of either type.
The subscription consent page redirects back to PUBLIC_BASE_URL, so that channel needs it too.

Handlers see the outcome as ``handlers.ports.Channels`` (``Capabilities.channels``), never this module.
"""

from __future__ import annotations

from dataclasses import dataclass

from config.settings import ACCOUNT_TYPES, Settings, SettingsError
from handlers.delivery_messages import parse_template_fields
from handlers.ports import DEFAULT_TEMPLATE_FIELDS, Channels, ConsentLinks


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
    template_fields: tuple[tuple[str, str], ...] = DEFAULT_TEMPLATE_FIELDS
    # The subscription consent page's callback needs a public https origin.
    public_base_url: str | None = None

    def channels(self, consent: ConsentLinks | None = None) -> Channels:
        """What handlers may send, as the port they read (``Context.channels``, ``JobContext.channels``)."""
        return Channels(
            customer_service=self.customer_service,
            template=self.template,
            subscribe_message=self.subscribe_message,
            template_id=self.template_answer_id if self.template else None,
            template_fields=self.template_fields,
            subscribe_template_id=self.subscribe_template_id if self.subscribe_message else None,
            consent=consent if self.subscribe_message else None,
            answer_page_url=f"{self.public_base_url}/h5/me/suggestions"
            if self.oauth and self.public_base_url
            else None,
        )

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
            if not self.subscribe_template_id:
                lines.append("未配置 WECHAT_SUBSCRIBE_TEMPLATE_ID：一次性订阅消息已关闭。")
            else:
                lines.append("未配置 PUBLIC_BASE_URL：一次性订阅消息的授权页无法回到本服务，已关闭。")
        elif not self.subscribe_message and self.subscribe_template_id:
            lines.append(
                f"公众号类型为{self.label}：不能发送一次性订阅消息，WECHAT_SUBSCRIBE_TEMPLATE_ID 不起作用。"
            )
        return lines


def capabilities(settings: Settings) -> Capabilities:
    """Raises SettingsError (Chinese) for a malformed GHPP_TEMPLATE_ANSWER_FIELDS."""
    service = settings.account_type == "service"
    verified = settings.account_verified
    spec = settings.extra.get("GHPP_TEMPLATE_ANSWER_FIELDS", "").strip()
    try:
        fields = parse_template_fields(spec) if spec else DEFAULT_TEMPLATE_FIELDS
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    return Capabilities(
        account_type=settings.account_type,
        verified=verified,
        oauth=service and verified,
        customer_service=verified,
        template=service and verified and bool(settings.template_answer_id),
        subscribe_message=verified
        and bool(settings.subscribe_template_id)
        and bool(settings.public_base_url),
        template_answer_id=settings.template_answer_id,
        subscribe_template_id=settings.subscribe_template_id,
        template_fields=fields,
        public_base_url=settings.public_base_url,
    )
