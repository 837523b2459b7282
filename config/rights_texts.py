"""Replies about a worker's own data (个人信息权利): what is stored, and deleting it."""

EXPORT_HEAD = "【您的个人信息】以下是本公众号保存的与您有关的全部信息："
EXPORT_PAGE = "（第{page}/{pages}页，回复「我的信息{next}」查看第{next}页）"
EXPORT_NO_PAGE = "没有第{page}页，您的信息共{pages}页。回复「我的信息」从第1页看起。"
EXPORT_FOOT = "回复「删除我的信息」可删除以上信息；回复「撤回同意」可撤回授权并删除。"

SECTION_ACCOUNT = "■ 账号"
FIRST_SEEN = "首次来信：{at}"
LAST_SEEN = "最近来信：{at}"
NEVER = "暂无"
SUBSCRIBED = "关注状态：{state}"
SUBSCRIBED_YES = "已关注"
SUBSCRIBED_NO = "已取消关注"
MESSAGES = "保存的消息记录：{n}条（用于防重复和核查；匿名建议的消息不与您关联）"

SECTION_BINDING = "■ 身份绑定"
NOT_BOUND = "未绑定工会"
BOUND = "所属工会：{union}（{how}）"
BOUND_HOW = {"qrcode": "扫工会二维码", "member": "会员卡绑定", "invite": "邀请码"}
ROLE = "身份：{role}"
ROLE_LABELS = {"worker": "职工", "cadre": "工会干部", "admin": "管理员"}
CADRE_BRANDS = "负责的品牌：{brands}"
CARD = "会员卡：已绑定（{at}绑定；系统只保存卡号的加密摘要，无法还原卡号，显示为 ****）"
NO_CARD = "会员卡：未绑定"
REPORTS = "上报的工作进度：{n}条；上传的活动照片：{photos}张"

SECTION_RECOGNITION = "■ 投票和评分"
RECOGNITION_NONE = "没有投票或评分记录"
RECOGNITION_LINE = "「{campaign}」：投票{votes}次，评分{ratings}次"
RECOGNITION_NOTE = "（投票和评分只以加密编号保存，不保存您的微信号）"

SECTION_SUGGESTIONS = "■ 实名建议"
SUGGESTIONS_NONE = "没有实名建议"
SUGGESTION_LINE = "{ticket} {state}：{snippet}"
SUGGESTIONS_ANON = "匿名建议不与您的账号关联，这里查不到，也无法替您删除；请凭编号和查询码查询。"

SECTION_SURVEYS = "■ 问卷"
SURVEYS = "问卷答卷：{n}份（已完成{done}份）"


DELETE_LEAD = (
    "确定要删除您的个人信息吗？将会：解除工会和会员卡绑定、删除问卷答卷和对话记录、"
    "实名建议改为不署名（内容留给工会办理）、消息记录去掉您的微信号；"
    "投票和评分只以无法对应到您的加密编号保留在统计中。删除后不能恢复。"
)
WITHDRAW_LEAD = (
    "确定要撤回您对本公众号处理个人信息的同意吗？撤回后我们会删除您的个人信息（同「删除我的信息」），"
    "并且不再向您推送任何消息。删除后不能恢复。"
)
DELETE_CANCELLED = "好的，已取消，您的信息没有任何改动。"
DELETED = (
    "您的个人信息已删除：已解除绑定，问卷答卷、对话记录已删除，实名建议{n}条已改为不署名，"
    "消息记录已去掉您的微信号。\n"
    "为保证已公布的品牌认可度结果可以复核，您的{votes}条投票和评分以加密编号保留在统计中，"
    "不含您的微信号，也无法由此查到您。\n"
    "今后不会再向您推送消息。如果您再次发消息，将作为新用户重新开始。"
)
WITHDRAWN = "已撤回您的同意。"
