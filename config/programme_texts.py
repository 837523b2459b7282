"""Reply texts of the brand programme: cadres, members, progress, photos, brand status."""

NO_BRANDS_YET = "（该工会暂无登记的工作品牌）"

BIND_USAGE = (
    "请在「绑定」后附上邀请码或会员卡号，例如：\n"
    "· 绑定 ABCD2345（工会干部邀请码）\n"
    "· 绑定 会员卡号 12345678（工会会员）"
)
BIND_ASK = (
    "请发送邀请码或会员卡号，例如：\n"
    "· ABCD2345（工会干部邀请码）\n"
    "· 会员卡号 12345678（工会会员）\n"
    "回复「取消」退出。"
)
BIND_TOO_MANY = "尝试次数过多，请 1 小时后再试。如有疑问，请联系所在工会。"
INVITE_UNKNOWN = "邀请码不正确，请核对后重新输入（注意区分字母和数字）。"
INVITE_USED = "该邀请码已被使用。每个邀请码只能使用一次，请向上级工会索取新的邀请码。"
INVITE_EXPIRED = "该邀请码已过期（有效期 7 天），请向上级工会索取新的邀请码。"
INVITE_ALREADY_YOURS = "您已是「{union}」的工会干部，无需重复绑定。"
INVITE_OK = (
    "绑定成功！您已成为「{union}」的工会干部，负责品牌：{brands}。\n"
    "现在可以：\n"
    "· 上报进度 品牌名 内容 —— 上报品牌进度\n"
    "· 直接发送照片 —— 上传活动照片"
)
MEMBER_UNKNOWN = "未找到该会员卡号，请核对后重新输入。如确认无误，请联系所在工会更新会员名单。"
MEMBER_TAKEN = "该会员卡号已被其他微信号绑定。如非本人操作，请联系所在工会处理。"
MEMBER_ALREADY_YOURS = "您已绑定该会员卡，无需重复绑定。"
MEMBER_HAS_OTHER_CARD = "您的微信号已绑定了另一张会员卡。如需更换，请联系所在工会。"
MEMBER_OK = "会员身份验证成功！已为您关联到「{union}」。"

PROGRESS_NOT_CADRE = "上报进度仅限工会干部使用。工会干部请先回复「绑定 邀请码」完成身份绑定。"
NO_BRANDS_FOR_CADRE = "您所在的工会暂无登记的工作品牌，请联系上级工会登记后再上报。"
PROGRESS_NOT_YOUR_BRAND = "「{brand}」不是您所在工会的品牌，只能为本工会的品牌上报进度。"
PROGRESS_EMPTY = "请写上进度内容，例如：上报进度 工惠乐学 本月开展培训12场，参与职工600人次。"
PROGRESS_ASK_TEXT = (
    "请发送进度内容，例如：本月开展培训12场，参与职工600人次。负责多个品牌时请写上品牌名。回复「取消」退出。"
)
PROGRESS_TEXT_AGAIN = "这不像是进度内容，这次没有记录。请写几句话说明开展了什么工作，或回复「取消」退出。"
PROGRESS_TEXT_FIRST = "请先发送进度的文字内容，提交后再发活动照片。回复「取消」退出。"
PROGRESS_WHICH_BRAND = "您负责多个品牌，这条进度属于哪一个？请回复编号：\n{menu}\n（回复「取消」退出）"
CHOOSE_BRAND_AGAIN = "没有找到对应的品牌，请回复编号：\n{menu}\n（回复「取消」退出）"
CHOOSE_BRAND_FIRST = "请先回复编号选择品牌：\n{menu}\n选好后再发送照片。"
PROGRESS_OK = (
    "已记录「{brand}」的进度（编号 {number}）。\n如有活动照片，请在 2 小时内直接发送，将附在这条进度上。"
)

PHOTO_NOT_CADRE = (
    "感谢您的分享！活动照片由工会干部上传，本号不保存职工发送的图片。如有建议，请回复「建议 + 内容」。"
)
PHOTO_ASK_BRAND = "收到照片。这是哪个品牌的活动？请回复编号：\n{menu}"
PHOTO_MORE_ASK_BRAND = "已收到 {count} 张照片。请回复编号选择品牌：\n{menu}"
PHOTO_ASK_ACTIVITY = "收到「{brand}」的照片。请用一句话说明这是什么活动（如：11月职工技能培训）。"
PHOTO_ACTIVITY_AGAIN = "请用一句话说明这是什么活动（如：11月职工技能培训），回复「取消」退出。"
PHOTO_MORE_ASK_ACTIVITY = "已收到 {count} 张照片。请用一句话说明这是什么活动。"
PHOTO_SAVED = "已保存 {count} 张照片到「{brand}」。"
PHOTO_ATTACHED = "已收到第 {count} 张照片，附在「{brand}」的进度（编号 {number}）上。"
PHOTO_DOWNLOAD_FAILED = "抱歉，有一张照片未能从微信取回（可能已过期），请重新发送。"
PHOTO_TOO_LARGE = "抱歉，有一张照片超过 10 MB，未能保存，请压缩后重新发送。"
PHOTO_NOT_IMAGE = "抱歉，收到的文件不是图片，未能保存，请重新发送照片。"
# One label for a photo received before (the same bytes or a near-identical copy), whichever brand.
PHOTO_FLAG_LABEL = "重复照片"
PHOTO_FLAG_FIRST_BY = "最早由「{brand}」上传"
PHOTO_FLAG_NOTICE = (
    "提示：这张照片与此前上传的照片相同或高度相似（{first}），已标记为" + PHOTO_FLAG_LABEL + "，请核实。"
)
PHOTO_FLAG_FIRST_UNKNOWN = "最早一张尚未选定品牌"

STATUS_USAGE = (
    "请在「查询」后写上品牌名称或建议单号，例如：查询 工惠乐学、查询 JY20261121-0001；"
    "回复「我的建议」查看您提交的建议。"
)
STATUS_UNKNOWN_BRAND = "没有找到名为「{name}」的工作品牌，请核对名称。"
STATUS_STAGE = "阶段：{stage}（第 {step} 步，共 {total} 步）"
STATUS_NO_PROGRESS = "最近进度：暂无上报"
STATUS_PROGRESS = "最近进度：{date} {summary}"
# After 继续培育 (or 不予通过) a new round starts: the old material cannot be sent for review again.
STATUS_NEW_ROUND = (
    "上次评议：{decision}（{date}）。本轮尚无新的进度上报，须上报新进度并重新自评后才能再次送评。"
)
STATUS_RECOGNITION_NONE = "社会认可度：暂无数据"
STATUS_RECOGNITION = "社会认可度：{score:.1f}"
STATUS_RANK = "，排名第 {rank}/{total}"
