"""Reply texts for suggestions (建议) and surveys (问卷), Simplified Chinese."""

# --- suggestions -------------------------------------------------------------------------
ASK_CONTENT = "请直接输入您的建议（2～1000 字），回复「取消」放弃。"
ASK_CONTENT_ANONYMOUS = (
    "您选择了匿名提交。请直接输入您的建议（2～1000 字），回复「取消」放弃。\n"
    "匿名建议不记录您的身份，工会看不到是谁提的。"
)
TOO_SHORT = "建议内容太短了（至少 {min} 个字），请再详细说说。"
TOO_LONG = "建议内容太长了（最多 {max} 个字，您输入了 {n} 个字），请精简后重新发送。"
DAILY_LIMIT = "您今天已提交 {n} 条建议，达到每日上限。请明天再提交，感谢您的关心！"
NO_UNION = "系统暂未设置受理工会，建议未能提交，请稍后再试或联系工会工作人员。"
CONFIRM = "请确认您的建议内容：\n「{text}」\n\n回复 1 确认提交，回复 2 重新输入，回复「取消」放弃。"
LEAVE_HINT = "（回复「取消」放弃。）"
CONFIRM_HINT = "请回复 1 确认提交，2 重新输入，或「取消」放弃。"
FILED = (
    "您的建议已提交，单号：{ticket}\n"
    "分类：{category}；受理工会：{union}。\n"
    "工会将在 {accept_days} 个工作日内受理。回复「查询 {ticket}」或「我的建议」可查看办理进度，{how}"
)
# How the answer will come (FILED's {how}): pushed, or only with the worker's next message.
HOW_PUSHED = "答复会通过公众号消息通知您。"
HOW_NEXT_MESSAGE = "工会答复后，您下次给公众号发消息时即可收到答复。"
# The one-time subscription consent link (一次性订阅消息), offered after a named filing.
SUBSCRIBE_OFFER = (
    '想在工会答复时及时收到提醒？<a href="{url}">点此允许发送一次答复提醒</a>（只发一次，可不点）。'
)
FILED_ANONYMOUS = (
    "您的匿名建议已提交，单号：{ticket}，查询码：{code}\n"
    "匿名的意思是：系统不保存您的微信身份，这条建议与您的账号之间没有任何记录，"
    "工会和管理员都无法知道是谁提的。也因此我们无法主动把答复推送给您，"
    "请记下单号和查询码，回复「查询 {ticket} {code}」查看办理进度和答复。"
)
CODE_WRONG = (
    "单号 {ticket} 的查询码不对，请核对后再试（查询码 8 位，由数字和字母组成，如 7K2M-9QXA）。"
    "每小时最多可输错 5 次。"
)
CODE_LOCKED = "查询码输错次数过多，为保护匿名建议，请 {minutes} 分钟后再试。"
STATUS_HEADER = "单号 {ticket}｜{state}"
STATUS_LINE_CONTENT = "内容：{content}"
STATUS_LINE_UNION = "受理工会：{union}"
STATUS_LINE_CREATED = "提交时间：{created}"
STATUS_LINE_DUE = "办理时限：{due} 前"
STATUS_LINE_REASON = "不予受理的原因：{reason}"
STATUS_LINE_ANSWER = "工会答复：{answer}"
STATUS_LINE_RATING = "您的评价：{rating}"
STATUS_RATE_PROMPT = "请对答复进行评价：回复 1 满意，2 基本满意，3 不满意。"
STATUS_NOT_FOUND = "未找到单号 {ticket} 的建议，请核对单号（格式如 JY20261121-0001）。"
STATUS_OTHERS = "单号 {ticket} 的建议当前状态：{state}。（这不是您提交的建议，不显示内容。）"
STATUS_ANONYMOUS_NEED_CODE = (
    "单号 {ticket} 当前状态：{state}。这是一条匿名建议，查看内容和答复请回复「查询 {ticket} 查询码」。"
)
MY_NONE = "您还没有提交过实名建议。回复「建议：内容」即可提交。（匿名建议请用单号和查询码查询。）"
MY_HEADER = "您最近的建议（最多显示 10 条）："
MY_LINE = "· {ticket}｜{state}｜{snippet}"
MY_TAIL = "回复「查询 单号」查看详情。匿名建议不在此列出，请用单号和查询码查询。"
MY_PAGE_LINK = "在网页上查看全部建议、办理记录和答复：{url}"
ANSWER_PUSH = "您的建议（单号 {ticket}）已有答复：\n{answer}\n\n" + STATUS_RATE_PROMPT
# Put before the reply to the worker's next message when the rating cannot start now (another
# dialogue is open), and its shortest form when the reply leaves no room for the answer.
ANSWER_PUSH_QUERY = "您的建议（单号 {ticket}）已有答复：\n{answer}\n\n回复「查询 {ticket}」可评价。"
ANSWER_POINTER = "您的建议（单号 {ticket}）已有答复，回复「查询 {ticket}」查看并评价。"
# One-time subscription message: a title of at most 15 characters, content of at most 200.
SUBSCRIBE_TITLE = "建议答复提醒"
SUBSCRIBE_CONTENT = "您的建议（单号 {ticket}）已有答复：{answer}\n" + STATUS_RATE_PROMPT

# --- how an answer reached the worker (dashboard) ------------------------------------------
DELIVERY_CHANNEL_LABELS = {
    "passive": "被动回复",
    "customer_service": "客服消息",
    "template": "模板消息",
    "subscribe": "订阅消息",
    "next_message": "下次留言时送达",
    "page": "网页查看",
}
DELIVERY_STATUS_LABELS = {
    "sent": "已发出",
    "delivered": "已送达",
    "failed": "发送失败",
    "blocked": "职工拒收",
    "waiting": "等待职工留言",
    "done": "职工留言后已送达",
}
# WeChat's errcodes as an operator should read them.
DELIVERY_ERRCODE_LABELS = {
    -1: "微信系统繁忙",
    40003: "openid 无效（不是本公众号的关注者）",
    40037: "模板 ID 无效：请检查 WECHAT_TEMPLATE_ANSWER_ID",
    43004: "职工已取消关注公众号",
    43101: "职工拒绝接收该消息（未授权或授权已用完）",
    45009: "接口调用次数已达今日上限",
    45015: "已超过 48 小时，不能再发客服消息",
    45047: "客服消息条数已达上限",
    47003: "模板参数不合规（如关键词超过 20 个字）",
    48001: "公众号没有该接口的权限（检查公众号类型与认证设置）",
}
DELIVERY_ERRCODE_UNKNOWN = "微信返回错误码 {errcode}"
# The Status of a template message's TEMPLATESENDJOBFINISH receipt.
DELIVERY_RECEIPT_LABELS = {
    "success": "微信回执：已送达",
    "failed:user block": "微信回执：职工设置了拒收本公众号的模板消息",
    "failed: system failed": "微信回执：微信系统原因发送失败",
}
DELIVERY_NONE_YET = "尚无送达记录"
# The consent callback's pages (/h5/subscribe/callback): title, text.
SUBSCRIBE_PAGE_OFF = ("未开通", "本公众号没有开通一次性订阅消息。")
SUBSCRIBE_PAGE_INVALID = ("链接无效", "该授权链接无效或已过期，请回到公众号重新获取。")
SUBSCRIBE_PAGE_CANCELLED = ("已取消", "您没有允许这次提醒。工会答复后，您下次给公众号发消息时仍会收到答复。")
SUBSCRIBE_PAGE_OK = ("已允许", "工会答复您的建议后，将给您发送一次答复提醒（只发一次）。现在可以关闭本页面。")
DELIVERY_ANONYMOUS = "匿名建议的答复不推送：作者凭单号和查询码查看。"
RATED = "感谢您的评价！"
REOPENED = "很抱歉答复未能让您满意，建议已重新转入办理，工会将再次答复您。"
RATE_CLOSED = "该建议已评价，感谢您的反馈。"
RATING_LABELS = {"satisfied": "满意", "basic": "基本满意", "unsatisfied": "不满意"}
# A suggestion's history (suggestion_event.action), for the dashboard and the worker's page.
SUGGESTION_EVENT_LABELS = {
    "submit": "提交",
    "accept": "受理",
    "start": "开始办理",
    "answer": "答复",
    "reject": "不予受理",
    "transfer": "转办",
    "rate": "评价",
    "reopen": "不满意，重新办理",
    "escalate": "逾期上交",
    "overdue": "逾期",
}

# --- surveys ------------------------------------------------------------------------------
SURVEY_NONE = "目前没有正在进行的问卷，感谢关注。"
SURVEY_DONE_ALREADY = "您已经完成了「{title}」，每人只需填写一次，感谢参与！"
SURVEY_INTRO = (
    "「{title}」一题一答，回复序号作答；「上一题」返回，「跳过」跳过选答题，「取消」退出（24 小时内可继续）。"
)
SURVEY_RESUME = "欢迎回来，继续填写「{title}」："
SURVEY_THANKS = "问卷已提交，感谢您的参与！"
SURVEY_HINT_SINGLE = "请回复一个选项的序号（如 1），或选项文字。"
SURVEY_HINT_MULTIPLE = "请回复选项序号，多个用逗号隔开（如 1,3）。"
SURVEY_HINT_MULTIPLE_MAX = "请回复选项序号，多个用逗号隔开（如 1,3），最多选 {max} 项。"
SURVEY_HINT_SCALE = "请回复 1～5 之间的数字。"
SURVEY_HINT_SCALE_DK = "请回复 1～5 之间的数字，或回复 6 表示说不清。"
SURVEY_HINT_NPS = "请回复 0～10 之间的数字。"
SURVEY_HINT_YESNO = "请回复 1（是）或 2（否）。"
SURVEY_HINT_TEXT = "请用文字回答（{max} 字以内）。"
SURVEY_NOT_OPTIONAL = "这道题是必答题，不能跳过。"
SURVEY_AT_FIRST = "已经是第一题了。"
SURVEY_OPTIONAL_TAG = "（选答，可回复「跳过」）"
SURVEY_MULTI_TAG = "（可多选）"
SURVEY_MULTI_TAG_MAX = "（可多选，最多 {max} 项）"
SURVEY_SCENE_UNKNOWN = "该问卷不存在或已结束。"
SURVEY_CLOSED = "该问卷已结束，感谢您的参与。"
SURVEY_LEAVE_HINT = "回复「取消」退出问卷（已答内容保留 24 小时，回复「问卷」可接着填）。"
SURVEY_PAGE_LINK = "题目较多，也可以在网页上填写（与聊天中的进度互通）：{url}"
SURVEY_MOVED_ON = "您已在网页上接着作答，上一条回复未作记录。当前题目："

# --- the H5 survey page (handlers/surveys/page.py, bot/h5/surveys.py) -------------------------
SURVEY_PAGE_HINT_MULTIPLE = "可多选。"
SURVEY_PAGE_HINT_MAX = "可多选，最多 {max} 项。"
SURVEY_PAGE_HINT_ROSTER = "可多选；都没听说过请选「{none}」。"
SURVEY_PAGE_HINT_TEXT = "{max} 字以内。"
SURVEY_PAGE_DONT_KNOW = "说不清"
SURVEY_PAGE_MISSING = "第 {n} 题是必答题，请作答。"
SURVEY_PAGE_NOT_OPTION = "第 {n} 题的答案不在选项中，请从页面上的选项中选择。"
SURVEY_PAGE_TOO_MANY = "第 {n} 题最多选 {max} 项，你选了 {got} 项。"
SURVEY_PAGE_NONE_AND_OTHER = "第 {n} 题选了「{none}」，就不能再选其他品牌。"
SURVEY_PAGE_OUT_OF_RANGE = "第 {n} 题请选择 {min}～{max} 之间的分数。"
SURVEY_PAGE_TOO_LONG = "第 {n} 题最多 {max} 字，你写了 {got} 字，请精简后再提交。"
SURVEY_PAGE_FORGED = "提交的内容里有不属于本页的题目，未作记录。请刷新页面后重新作答。"
SURVEY_PAGE_STALE = (
    "问卷进度已在别处更新（例如在公众号聊天中作答），本次提交未作记录。请从下面的题目接着填写。"
)
SURVEY_PAGE_INVALID = "本次提交未保存，请修改下面标出的问题后重新提交："
SURVEY_PAGE_SAVED = "已保存，请继续作答。"
SURVEY_PAGE_RESUMED = "欢迎回来，已为你接着上次的进度（包括在公众号聊天中答过的题）。"
SURVEY_PAGE_DONE = "已提交"
SURVEY_PAGE_DONE_TEXT = "你已经提交了这份问卷，每人只需填写一次，感谢参与！"
SURVEY_PAGE_CLOSED = "该问卷已结束，感谢关注。"
SURVEY_PAGE_ABOUT = "答案按页保存：离开后 24 小时内再打开可接着填，与公众号聊天中的进度互通。"
SURVEY_PAGE_DONE_ALREADY = "你已提交过这份问卷，每人只能提交一次，本次未作记录。"
SURVEY_PAGE_CLOSED_POST = "该问卷已结束，本次提交未作记录。"

# --- the H5 suggestion pages (handlers/suggestions/page.py, bot/h5/suggestions.py) -----------
LOOKUP_WRONG = (
    "单号或查询码不对，未能查到建议。请核对后再试（查询码 8 位，由数字和字母组成，如 7K2M-9QXA）。"
    "每小时最多可输错 5 次。实名建议请在「我的建议」中查看。"
)
LOOKUP_BAD_TICKET = "单号格式不对，请按提交成功时给出的单号填写（如 JY20261121-0042）。"
LOOKUP_BAD_CODE = "查询码格式不对：查询码 8 位，由数字和字母组成（如 7K2M-9QXA）。"
