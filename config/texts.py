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
RECEIVED_PROCESSING = "已收到您的消息，正在处理，稍后把结果发给您。"
INTERNAL_ERROR = "抱歉，系统暂时繁忙，您的消息已记录，请稍后再试。"
# A repeated delivery of a message whose first delivery was already recorded, when its reply is
# no longer at hand: the work is not done twice, and the user is told it was done.
ALREADY_HANDLED = "您的这条消息已经收到并处理过了，无需重复发送。"
