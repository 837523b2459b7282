"""Reply texts of votes, ratings and the recognition index (Simplified Chinese)."""

NO_OPEN_CAMPAIGN = "目前没有正在进行的品牌评选或测评活动，活动开始后会在公众号通知。"
LIST_HEADER = "【{name}】{kind}（{closes}）"
LIST_LINE = "{number}. {brand}"
LIST_FOOT_VOTE = "回复「投3号」或「投票给品牌名」即可投票，每人最多支持 {k} 个不同品牌，每个品牌一票。"
LIST_FOOT_RATING = "回复「品牌名 5分」或「投3号 4分」为品牌打分（1–5分，5分为非常满意）。"
LIST_MORE = "（第 {page}/{pages} 页，回复「候选 {next}」看下一页）"
LIST_OTHER_CAMPAIGNS = "其他进行中的活动：{names}"
ASK_WHICH_CAMPAIGN = "您可以参加的活动不止一项，这次还没有记录任何内容。请选择活动："
CAMPAIGN_OUTSIDE = "「{campaign}」不面向您所在的工会，这次没有记录。回复「候选」查看您可以参加的活动。"
WHICH_BRAND = "请告诉我要投给哪个品牌，例如「投3号」或「投票给品牌名」。回复「候选」查看候选名单。"
NUMBER_UNKNOWN = "「{number}号」不在候选名单中。回复「候选」查看编号。"
BRAND_NOT_IN_CAMPAIGN = "「{brand}」不在正在进行的活动中。回复「候选」查看候选名单。"
VOTE_RECORDED = (
    "已为「{brand}」投上一票（{campaign}）。您已支持 {used}/{k} 个品牌。投票不能撤回；还可以支持其他品牌。"
)
VOTE_ALREADY = "您已经为「{brand}」投过票了，每个品牌每人一票，这次不再重复计票。谢谢您的支持！"
VOTE_FULL = "您在本次活动中已支持 {k} 个品牌（{brands}），已达上限，这次没有计票。"
ASK_SCORE = (
    "请为「{brand}」打分：回复 1–5 的数字（5 非常满意，4 满意，3 一般，2 不满意，1 非常不满意）。"
    "回复「取消」放弃。"
)
ASK_SCORE_AGAIN = "没看懂这个分数。请回复 1–5 的数字，例如「4」。回复「取消」放弃。"
RATING_RECORDED = (
    "已记录：「{brand}」{score}分（{campaign}）。想修改时再发一次「{brand} 新分数」即可，以最后一次为准。"
)
RATING_REPLACED = "已把「{brand}」的评分从 {old}分 改为 {score}分（{campaign}），以最后一次为准。"
RATING_SAME = "已记录过「{brand}」{score}分，无需重复提交。想修改时发送「{brand} 新分数」。"
RATE_LIMITED = "您在一小时内提交得太频繁了（上限 {limit} 次），为防止刷票，请稍后再试。已提交的不受影响。"
CAMPAIGN_CLOSED = "活动「{campaign}」已结束，感谢参与！结果公布后可回复「查询 品牌名」查看。"
REVIEWER_ELSEWHERE = "您是「{invited}」的党政评议人，评分只计入该活动，「{campaign}」这次没有记录。"
REVIEW_RECUSED = "您所在单位的品牌「{brand}」需要回避评议，这次没有记录。"
REVIEWER_BOUND = "您已成为「{campaign}」的党政评议人（{unit}）。请回复「品牌名 分数」（1–5分）进行评议。"
REVIEWER_CODE_BAD = "评议邀请码无效或已被使用，请向组织单位核实。"
BRAND_QR_UNKNOWN = "这个品牌二维码已失效，请回复「候选」查看正在进行的活动。"
BRAND_QR_VOTE = "欢迎为「{brand}」投票！回复「投{number}号」即可（{campaign}）。"
LIST_PAGE_LINK = "在网页上看各品牌的介绍和照片并投票、打分：\n{url}"
