"""Reply texts shown to workers and cadres (Simplified Chinese)."""

ACCOUNT_NAME = "工会品牌通"

WELCOME = (
    "欢迎关注「工会品牌通」！这里是工会工作品牌的线上家园，您可以：\n"
    "1. 回复「投票」查看候选品牌并投票、打分\n"
    "2. 回复「建议 + 内容」向工会提建议（可匿名）\n"
    "3. 回复「问卷」参加满意度调查\n"
    "4. 回复「查询 品牌名」了解品牌进展，「我的建议」查看办理情况\n"
    "工会干部回复「绑定 邀请码」后，可上报进度、发送活动照片。\n"
    "随时回复「帮助」查看使用说明。"
)

WELCOME_WITH_UNION = "已为您关联到「{union}」。"

HELP = (
    "使用说明：\n"
    "· 投票 / 投3号 / 工惠乐学 5分 —— 为品牌投票或打分\n"
    "· 候选品牌 —— 查看本次活动的候选名单\n"
    "· 建议：食堂菜品太少 —— 提建议（加「匿名」可匿名提交）\n"
    "· 我的建议 / 查询 JY20261121-0001 —— 查看建议办理情况\n"
    "· 问卷 —— 参加满意度调查\n"
    "· 查询 工惠乐学 —— 查看品牌进展\n"
    "· 绑定 邀请码 —— 工会干部绑定身份\n"
    "· 上报进度 品牌名 内容 —— 工会干部上报进度\n"
    "· 我的信息 / 删除我的信息 —— 查看或删除我们保存的您的信息\n"
    "· 页面 —— 打开网页版（问卷、我的建议、评选活动）\n"
    "· 取消 —— 退出当前操作"
)

INTENT_LABELS = {
    "vote": "投票或打分（如：投3号、工惠乐学 5分）",
    "list": "查看候选品牌（回复：候选品牌）",
    "status": "查询品牌或建议进展（如：查询 工惠乐学）",
    "suggest": "提建议（如：建议：食堂增加夜班餐）",
    "survey": "参加满意度调查（回复：问卷）",
    "progress": "上报品牌进度（工会干部）",
    "bind": "绑定身份（如：绑定 邀请码）",
    "help": "查看使用说明（回复：帮助）",
}

UNKNOWN = "抱歉，没有理解您的意思。"
DID_YOU_MEAN = "您是不是想："
UNKNOWN_TAIL = "回复「帮助」查看全部功能。"

VOICE_NOT_RECOGNISED = "抱歉，没有听清您的语音，请再说一遍，或直接输入文字。"
UNSUPPORTED_KIND = "已收到。目前支持文字、语音和图片消息，回复「帮助」查看可以做什么。"
FEATURE_NOT_OPEN = "该功能正在建设中，敬请期待。回复「帮助」查看目前可用的功能。"
CANCELLED = "已退出当前操作。回复「帮助」查看可以做什么。"
NOTHING_TO_CANCEL = "当前没有进行中的操作。回复「帮助」查看可以做什么。"
RECEIVED_PROCESSING = "已收到您的消息，正在处理，稍后把结果发给您；如未收到，请随便回复一条消息查看。"
HELD_REPLY_HEADER = "您上一条消息的处理结果："
HELD_REPLY_RESEND = "（本次消息的回复过长未能一并显示，请重新发送一次。）"
INTERNAL_ERROR = "抱歉，系统暂时繁忙，您的消息已记录，请稍后再试。"

# --- acting only on clear intent (handlers/intent_gates.py, asking_back.py) -------------------------
CAN_DO = (
    "可以这样说：「投3号」投票，「工惠乐学 5分」打分，「建议：内容」提建议，"
    "「问卷」参加调查，「查询 品牌名」看进展。"
)
EMPTY_TEXT = "没有收到文字内容。" + CAN_DO
BARE_NUMBER = (
    "只收到一个数字，我不确定您的意思，这次没有记录任何内容。\n"
    "投票请发「投3号」，打分请发「投3号 4分」或「品牌名 5分」，回复「候选」查看编号。"
)
ASK_LEAD = "我不太确定您的意思，这次还没有记录任何内容。您是想："
ASK_LEAD_MIXED = "您的消息里有好几件事，这次还没有记录任何内容。请先选一件："
ASK_LEAD_COMPLAINT = "这段话像是意见或投诉，这次没有当作打分。您是想："
ASK_LEAD_WHICH = "没能确定您要投给哪一个，这次没有计票。您是想："
ASK_LEAD_QUESTION = "这像是一个问题，这次没有投票。您是想："
ASK_TAIL = "请回复序号；回复「取消」放弃。"
ASK_AGAIN = "请回复上面的序号，或回复「取消」放弃。"
ASK_CANCELLED = "好的，没有记录任何内容。回复「帮助」查看可以做什么。"
ASK_CONTINUE = "继续{flow}"
CONFIRM_LEAD = "您是要{what}吗？投票后不能撤回。"
CONFIRM_CHOICES = "回复1确认{what}，回复2取消。"
NEGATION_NO_TARGET = (
    "没能确定您要投给哪个品牌，这次没有计票。请发「投3号」或「投票给品牌名」，回复「候选」查看编号。"
)
PROGRESS_HOW = (
    "上报进度请发：上报进度 品牌名 内容，例如「上报进度 工惠乐学 本月开展培训12场，参与职工600人次」。"
)
BIND_HOW = "工会干部请发「绑定 邀请码」（邀请码由上级工会提供），职工请发「绑定 会员卡号」。"
ECHO_CUT = "……（共{n}字，这里只显示开头）"

LABEL_VOTE = "给{target}投票"
LABEL_IN_CAMPAIGN = "在「{campaign}」中{what}"
LABEL_RATE = "给{target}打{score}分"
LABEL_VOTE_LIST = "投票（先看候选名单）"
LABEL_STATUS_BRAND = "查询「{brand}」的进展"
LABEL_STATUS_TICKET = "查询建议 {ticket} 的办理情况"
LABEL_MY_SUGGESTIONS = "查看我的建议"
LABEL_SUGGEST_TEXT = "把这段话作为建议/投诉提交给工会"
LABEL_SUGGEST = "提建议"
LABEL_PROGRESS_BRAND = "上报「{brand}」的进度"
OPTION_LABELS = {
    "list": "查看候选名单",
    "survey": "参加满意度调查",
    "progress": "上报工作进度（工会干部）",
    "bind": "绑定身份",
    "help": "查看使用说明",
    "suggest": "提建议",
    "status": "查询进展",
    "rights_delete": "删除我的信息",
    "rights_withdraw": "撤回同意并删除我的信息",
}

# --- flows (conversations in progress) -------------------------------------------------------------
# Links to the H5 pages (handlers/pages.py).
PAGE_LINK = "点击进入工会品牌通网页版（问卷、我的建议、评选活动）：\n{url}"
PAGE_ONE_TIME = "\n（链接 10 分钟内有效、只能用一次，请勿转发。）"
PAGE_NONE = "网页版暂未开放，请直接在聊天中操作。回复「帮助」查看使用说明。"

FLOW_LABELS = {
    "suggest": "提建议",
    "survey": "填写问卷",
    "recognition_score": "打分",
    "photo_brand": "登记活动照片",
    "progress_brand": "选择上报品牌",
    "progress_text": "上报进度",
    "progress_photos": "为进度补充照片",
    "suggestion_rate": "评价建议答复",
    "ask_back": "确认操作",
    "bind": "绑定身份",
    "default": "当前操作",
}
FLOW_CONTINUE = "好的，请继续。回复「取消」可退出。"
FLOW_HELP_TAIL = "您正在「{flow}」：继续请直接回复，退出请回复「取消」。"
FLOW_LEFT = "（已退出「{flow}」。）"
FLOW_INTERRUPT = "您正在「{flow}」，这条消息不像是回答。要先退出「{flow}」吗？"
FLOW_INTERRUPT_CHOICES = "回复1退出并{what}，回复2继续{flow}。"
FLOW_LEAVE_HINT = "回复「取消」可退出{flow}。"
LEAVE_AND = "退出「{flow}」，{what}"

# A repeated delivery of a message whose first delivery was already recorded, when its reply is
# no longer at hand: the work is not done twice, and the user is told it was done.
ALREADY_HANDLED = "您的这条消息已经收到并处理过了，无需重复发送。"
