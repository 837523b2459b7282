"""The generated part of the training corpus: ``python -m nlp.corpus`` rewrites corpus/gen_*.txt.

Deterministic (fixed seed). Many paraphrase families per intent, filled with brands of several invented
catalogues (province, city, county, grassroots, industry, numeral-laden names), then put through the
styles workers really type in: voice transcription (homophones, no punctuation, spoken numbers),
dialect, polite padding, long context, full-width, traditional, emoji. The output is committed as data
(reviewed, diffable); the classifier never sees the brand names themselves, only the Ⓑ mask.
Labels follow the conventions in docs/zh/router.md (a rating is a vote; recognition questions are status;
complaints are suggestions even with 满意/不满意; 满意度 is a survey …).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import opencc

from nlp.lexicon import CONFIG_DIR

CORPUS_DIR = CONFIG_DIR / "corpus"
SEED = 20261201

# name, aliases — invented catalogues at several levels (never the demo brands).
CATALOGUES: dict[str, list[tuple[str, tuple[str, ...]]]] = {
    "province": [
        ("泰山匠心工作室", ("匠心工作室",)),
        ("黄河安康驿站", ("安康驿站",)),
        ("鲁韵书香职工书屋", ("书香书屋",)),
        ("巾帼建功标兵岗", ("巾帼岗",)),
        ("金牌蓝领培育计划", ("金牌蓝领",)),
        ("职工法律援助直通车", ("法援直通车",)),
        ("户外劳动者暖心驿站", ("暖心驿站",)),
        ("劳模创新工作室联盟", ("劳模联盟",)),
        ("工会帮扶救助中心", ("帮扶中心",)),
        ("职工医疗互助保障", ("医疗互助",)),
        ("产业工人技能提升行动", ("技能提升行动",)),
        ("新就业形态劳动者入会行动", ("新业态入会",)),
    ],
    "city": [
        ("泉城工惠驿家", ("工惠驿家",)),
        ("海右职工夜校", ("职工夜校",)),
        ("泉心护航法律服务队", ("泉心护航",)),
        ("阳光心理咨询室", ("心理咨询室",)),
        ("爱心托管班", ("托管班",)),
        ("职工疗休养基地", ("疗休养基地",)),
        ("匠心泉城技能大赛", ("技能大赛",)),
        ("工会就业服务站", ("就业服务站",)),
        ("姐妹关爱室", ("关爱室",)),
        ("职工文体俱乐部", ("文体俱乐部",)),
        ("工友之家", ()),
    ],
    "county": [
        ("沂蒙红嫂服务队", ("红嫂服务队",)),
        ("乡村振兴工匠学院", ("工匠学院",)),
        ("困难职工帮扶站", ("帮扶站",)),
        ("沂河夜读书吧", ("夜读书吧",)),
        ("快递小哥之家", ("小哥之家",)),
        ("农民工欠薪维权岗", ("维权岗",)),
        ("职工健步走", ()),
        ("金秋助学行动", ("金秋助学",)),
        ("夏送清凉行动", ("送清凉",)),
        ("冬送温暖行动", ("送温暖",)),
    ],
    "grassroots": [
        ("焊花飞扬班组", ("焊花班组",)),
        ("安全生产啄木鸟", ("啄木鸟",)),
        ("合理化建议之星", ("建议之星",)),
        ("车间微课堂", ("微课堂",)),
        ("一线职工暖胃工程", ("暖胃工程",)),
        ("五小创新竞赛", ("五小竞赛",)),
        ("师带徒结对工程", ("师带徒",)),
        ("三八红旗岗", ("红旗岗",)),
        ("爱心母婴室", ("母婴室",)),
        ("职工子女暑期班", ("暑期班",)),
        ("班组长讲堂", ()),
        ("工间操推广", ()),
        ("职工创新创效平台", ("创新创效",)),
    ],
    "industry": [
        ("港城海员之家", ("海员之家",)),
        ("矿山安全卫士", ("安全卫士",)),
        ("电力铁军先锋队", ("铁军先锋队",)),
        ("高铁蓝领创新工作室", ("高铁蓝领",)),
        ("纺织巾帼技能课堂", ("巾帼课堂",)),
        ("化工园区职工服务中心", ("园区服务中心",)),
        ("12351职工服务热线", ("12351热线",)),
        ("劳动竞赛擂台", ("竞赛擂台",)),
        ("八一工友驿站", ("八一驿站",)),
    ],
    "numerals": [
        ("3561工程", ()),
        ("1+N帮扶模式", ("1+N模式",)),
        ("五个一服务法", ("五个一",)),
        ("双百行动", ()),
        ("十佳职工书屋", ("十佳书屋",)),
        ("百千万技能工程", ("百千万",)),
        ("七彩工会", ()),
        ("五星班组创建", ("五星班组",)),
        ("二十四节气健康课", ("节气健康课",)),
        ("二轻职工之家", ()),
        ("九九重阳敬老行", ("重阳敬老行",)),
        ("520工程", ()),
        ("三级联动服务", ("三级联动",)),
        ("六进六送", ()),
    ],
}

# Characters voice recognition swaps for one that sounds the same (only used inside brand names of
# three characters or more, where the router's sound match applies, and in ordinary words).
HOMOPHONES = {
    "惠": "会",
    "驿": "亦",
    "站": "战",
    "书": "舒",
    "工": "公",
    "心": "新",
    "家": "加",
    "匠": "酱",
    "屋": "乌",
    "班": "般",
    "课": "科",
    "堂": "唐",
    "援": "园",
    "帮": "邦",
    "助": "住",
    "航": "行",
}
VOICE_SWAPS = (
    ("在", "再"),
    ("的", "得"),
    ("吗", "嘛"),
    ("哪", "那"),
    ("做", "作"),
    ("已经", "以经"),
    ("一下", "一哈"),
)
DIALECT = (("怎么", "咋"), ("什么", "啥"), ("我们", "俺们"), ("我", "俺"), ("做", "整"), ("怎么办", "咋整"))
PREFIX = (
    "您好，",
    "你好，",
    "麻烦问一下，",
    "老师好，",
    "打扰一下，",
    "请问",
    "不好意思，",
    "在吗，",
    "您好 ",
)
SUFFIX = ("，谢谢", "，麻烦了", "，辛苦了", " 谢谢啦", "，多谢", "谢谢你们")
EMOJI = ("👍", "😊", "🙏", "[强]", "[微笑]", "💪", "[抱拳]", "😂", "❤️")
CONTEXT = (
    "我是三车间的老职工了。",
    "刚下夜班，",
    "听同事说的，",
    "我们组长让我来问问，",
    "我在厂里干了十几年了，",
    "今天刚看到推送。",
    "我是新来的，不太懂，",
    "上午开会的时候领导说了，",
    "我是送外卖的，",
    "我是园区的保洁员，",
)
SATISFIED = (
    ("非常满意", 5),
    ("很满意", 5),
    ("特别满意", 5),
    ("十分满意", 5),
    ("比较满意", 4),
    ("满意", 4),
    ("还算满意", 4),
    ("基本满意", 3),
    ("一般", 3),
    ("一般般", 3),
    ("还行", 3),
    ("不太满意", 2),
    ("不满意", 2),
    ("很不满意", 1),
    ("非常不满意", 1),
)
CN_DIGITS = "零一二三四五六七八九"


def spoken(n: int) -> str:
    """11 → 十一, 21 → 二十一, 7 → 七 (how voice input writes numbers)."""
    if n < 10:
        return CN_DIGITS[n]
    tens, units = divmod(n, 10)
    return ("" if tens == 1 else CN_DIGITS[tens]) + "十" + (CN_DIGITS[units] if units else "")


COMPLAINTS = (
    "食堂的菜太咸了",
    "宿舍热水器坏了三天了",
    "加班费一直没给",
    "车间噪音太大了，耳朵受不了",
    "班车太少，早上挤不上",
    "工资拖了两个月了",
    "社保一直没给交",
    "劳保用品三个月没发了",
    "更衣室没有空调，夏天热死了",
    "夜班没有热饭吃",
    "停车场太挤，电动车没地方放",
    "厕所太脏了没人打扫",
    "车间主任经常骂人",
    "合同到期不续签也不给补偿",
    "体检项目太少了",
    "厂区路灯坏了好几盏，晚上下班黑乎乎的",
    "倒班太频繁，休息不够",
    "女职工没有哺乳的地方",
    "高温补贴今年还没发",
    "安全帽都旧了也不换",
    "食堂菜里有头发",
    "宿舍八个人一间太挤了",
    "领导老是让我们无偿加班",
    "年假一直休不了",
    "工伤报销拖了半年",
    "门口的减速带太高了，电动车过不去",
    "饮水机的水有怪味",
    "外包工的工资比正式工低一大截",
    "夜班补贴被取消了",
    "劳务派遣的不让参加工会活动",
    "车间的排风扇坏了，粉尘很大",
    "考勤系统老出错，扣了我两天工资",
    "培训都安排在休息日",
    "澡堂只开一个小时",
    "快递站不让我们进小区送件",
    "绩效考核不公开",
    "班长克扣奖金",
    "餐补一天才十块钱",
    "宿舍楼的电梯老是坏",
    "午休时间太短了",
    "3号车间的空调坏了",
    "我们线上5号机床漏电",
    "2号宿舍楼停水两天了",
    "8号线的班长天天骂人",
    "一号门的保安态度太差",
    "12号楼的电梯困过人",
    "三号食堂的饭是凉的",
    "化工厂的安全员不管事",
    "上个月的绩效奖金少发了三百",
    "我们20多个人的加班费都没算",
)
WISHES = (
    "食堂增加夜班餐",
    "厂里装几个充电桩",
    "多组织点文体活动",
    "班车晚点发车",
    "更衣室装个空调",
    "增加女职工休息室",
    "开通职工子女暑期看护",
    "体检加个颈椎检查",
    "车间多放几个休息椅",
    "定期组织技能比武",
    "宿舍通上无线网",
    "给一线工人发防暑降温费",
    "夜班多给一个休息时间",
    "多开点电工焊工的课",
    "工会组织个相亲活动",
    "劳保鞋换个结实的牌子",
)
REPORTS = (
    "本周开展电工培训两期",
    "组织了50名志愿者进社区",
    "排查隐患36处已整改30处",
    "慰问环卫工人60名",
    "举办了安全生产讲座",
    "新增冰箱一台接待女职工15人次",
    "完成第三批培训",
    "走访企业8家",
    "开展了冬季送温暖活动",
    "组织读书分享会一场",
    "为120名职工免费体检",
    "召开了职工代表座谈会",
)
PRAISE = (
    "夏天送清凉送到工地上了",
    "哺乳期的姐妹都说好",
    "帮我们讨回了工资",
    "下班能看看书挺好",
    "老师讲得很实在",
    "冬天有热水喝",
    "反映的问题两天就回了",
    "有事找他们都管",
    "孩子上学的事帮了大忙",
)
ACTIVITIES = ("义诊活动", "技能比武", "读书会", "送清凉活动", "职工运动会", "法律咨询日", "亲子活动")
NAMES = ("王强", "李娟", "张建国", "刘海", "陈丽")
ORGS = ("滨州化工厂", "县供电公司", "市建筑公司", "开发区", "第二纺织厂", "港务集团")


@dataclass
class Row:
    intent: str
    brand: str | None
    args: str
    message: str
    # which style transforms keep the labels valid
    styles: bool = True


_T2S: opencc.OpenCC | None = None


def _traditional(text: str) -> str:
    global _T2S
    if _T2S is None:
        _T2S = opencc.OpenCC("s2t")
    result: str = _T2S.convert(text)
    return result


def _fullwidth(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if c.isascii() and c.isalnum() else c for c in text)


def _voice(text: str, rng: random.Random) -> str:
    for a, b in VOICE_SWAPS:
        if a in text and rng.random() < 0.4:
            text = text.replace(a, b, 1)
    return "".join(c for c in text if c not in "，。！？、：；,.!?:;（）() ")


def _dialect(text: str, rng: random.Random) -> str:
    for a, b in DIALECT:
        if a in text and rng.random() < 0.7:
            text = text.replace(a, b, 1)
    if text.endswith("了") and rng.random() < 0.5:
        text = text[:-1] + "嘞"
    return text


def style(row: Row, rng: random.Random) -> Row:
    """One of the ways workers type, chosen at random (labels stay valid)."""
    if not row.styles:
        return row
    text = row.message
    roll = rng.random()
    content = "text=" in row.args and "我的建议" not in row.args
    if content and (roll < 0.24 or 0.42 <= roll < 0.50):
        roll = 0.9  # the labelled content must survive: no voice/dialect rewriting, no context sentence
    if row.intent in ("help", "unknown", "cancel") and 0.24 <= roll < 0.50:
        roll = 0.9  # padding or a context sentence would change what these short messages are
    if roll < 0.12:
        text = _voice(text, rng)
    elif roll < 0.24:
        text = _dialect(text, rng)
    elif roll < 0.34:
        text = rng.choice(PREFIX) + text
    elif roll < 0.42:
        text = text + rng.choice(SUFFIX)
    elif roll < 0.50:
        text = rng.choice(CONTEXT) + text
    elif roll < 0.55:
        text = _fullwidth(text)
    elif roll < 0.61:
        text = _traditional(text)
    elif roll < 0.68:
        text = text + rng.choice(EMOJI)
    return Row(row.intent, row.brand, row.args, text, row.styles)


class Gen:
    def __init__(self, brands: list[tuple[str, tuple[str, ...]]], rng: random.Random) -> None:
        self.brands = brands
        self.rng = rng

    def brand(self) -> tuple[str, str]:
        """(canonical name, surface as typed)."""
        name, aliases = self.rng.choice(self.brands)
        roll = self.rng.random()
        if aliases and roll < 0.3:
            return name, self.rng.choice(aliases)
        if roll > 0.9 and len(name) >= 4:
            chars = [i for i, c in enumerate(name) if c in HOMOPHONES]
            if chars:
                i = self.rng.choice(chars)
                return name, name[:i] + HOMOPHONES[name[i]] + name[i + 1 :]
        return name, name

    def pick(self, items: tuple[str, ...] | list[str]) -> str:
        return self.rng.choice(items)

    def number(self) -> tuple[int, str, str | None]:
        """(n, as typed, brand it resolves to in this catalogue)."""
        n = self.rng.choice([*range(1, len(self.brands) + 1), *range(1, 10), 11, 12, 21, 23, 25])
        typed = str(n) if self.rng.random() < 0.6 else spoken(n)
        brand = self.brands[n - 1][0] if n <= len(self.brands) else None
        return n, typed, brand

    def ticket(self) -> tuple[str, str]:
        month = self.rng.randint(1, 12)
        day = self.rng.randint(1, 28)
        seq = self.rng.randint(1, 3000)
        canonical = f"JY2026{month:02d}{day:02d}-{seq:04d}"
        date, num = canonical[2:10], canonical[11:]
        typed = self.rng.choice(
            (
                canonical,
                canonical.lower(),
                f"JY{date} {num}",
                f"jy {date} {num}",
                f"JY-{date}-{num}",
                f"JY{date}—{num}",
            )
        )
        return canonical, typed

    def code(self) -> tuple[str, str]:
        rng = self.rng
        if rng.random() < 0.4:
            digits = "".join(rng.choice("0123456789") for _ in range(rng.choice((6, 8, 10))))
            return digits, digits
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
        code = "".join(rng.choice(alphabet) for _ in range(6))
        return code, code.lower() if rng.random() < 0.4 else code


def vote_rows(g: Gen) -> list[Row]:
    rows: list[Row] = []
    plain = (
        "投票给{b}",
        "我投{b}",
        "给{b}投一票",
        "{b}投一票",
        "支持{b}",
        "{b}加油",
        "为{b}点赞",
        "{b}必须支持",
        "俺投{b}",
        "帮{b}拉一票",
        "我选{b}",
        "{b}，我选它",
        "就投{b}了",
        "{b}真不错，给它投一票",
        "我们车间都投{b}",
        "我要给{b}投票",
        "投{b}一票",
        "把票投给{b}",
        "这一票给{b}",
        "{b}顶一个",
        "力挺{b}",
        "{b}，投它",
        "我投的是{b}",
        "{b}值得一票",
        "我们厂三百多人都支持{b}",
        "{b}帮我们解决了好几件事，必须投一票",
        "给{b}点个赞",
        "{b}好样的，支持",
        "{b}办得好，我投它",
        "我想投{b}",
        "投给{b}吧",
        "选{b}",
        "{b}，支持！",
        "投票 {b}",
        "帮我投{b}",
        "我也投{b}一票",
        "{b}给力，投了",
        "我家那口子让我投{b}",
        "{b}搞了5年了，一直支持",
        "咱就投{b}",
        "{b}太好了",
        "{b}真棒",
        "{b}很给力",
        "{b}办得不错",
        "{b}做得好",
        "{b}很满意，{why}",
        "{b}非常好，{why}",
    )
    for _ in range(55):
        name, surface = g.brand()
        frame = g.pick(plain)
        args = ""
        if "{why}" in frame:
            frame = frame.replace("很满意", "真不错") if g.rng.random() < 0.5 else frame
            args = "score=5" if "很满意" in frame else ""
        rows.append(Row("vote", name, args, frame.format(b=surface, why=g.pick(PRAISE))))
    scored = (
        "{b}{d}分",
        "给{b}打{d}分",
        "{b}我打{d}分",
        "{b}评{d}分",
        "{b} {d}星",
        "给{b}{d}颗星",
        "{b}必须{d}分",
        "{b}我给{d}星",
        "{b}就{d}分吧",
        "打分：{b} {d}分",
    )
    for _ in range(30):
        name, surface = g.brand()
        s = g.rng.randint(1, 5)
        d = str(s) if g.rng.random() < 0.5 else CN_DIGITS[s]
        rows.append(Row("vote", name, f"score={s}", g.pick(scored).format(b=surface, d=d)))
    satisfied = (
        "对{b}{w}",
        "{b}{w}",
        "我对{b}{w}",
        "{b}的话{w}吧",
        "{b}总体{w}",
        "说实话对{b}{w}",
        "给{b}评个{w}",
    )
    for _ in range(25):
        name, surface = g.brand()
        word, s = g.rng.choice(SATISFIED)
        rows.append(Row("vote", name, f"score={s}", g.pick(satisfied).format(b=surface, w=word)))
    stories = (
        "我是一名普通的一线工人，家里困难的时候是{b}帮了我们一把。这份情我记着，{d}分。",
        "说句心里话，{b}办得实在，{why}，我打{d}分",
        "去年冬天{b}来我们工地送过温暖，{why}，给{d}星",
        "{b}我去过好几次了，{why}，必须{d}分",
    )
    for _ in range(12):
        name, surface = g.brand()
        s = g.rng.randint(3, 5)
        d = str(s) if g.rng.random() < 0.5 else CN_DIGITS[s]
        text = g.pick(stories).format(b=surface, d=d, why=g.pick(PRAISE))
        rows.append(Row("vote", name, f"score={s}", text))
    numbered = (
        "投{n}号",
        "{n}号",
        "我投{n}号",
        "选{n}号",
        "支持{n}号",
        "给{n}号投票",
        "投第{n}个",
        "第{n}个",
        "{n}号加油",
        "就投{n}号",
        "我选{n}号",
        "投票{n}号",
        "俺投{n}号",
        "{n}号候选支持一下",
        "我要投{n}号",
    )
    for _ in range(30):
        n, typed, brand = g.number()
        rows.append(Row("vote", brand, f"number={n}", g.pick(numbered).format(n=typed)))
    for _ in range(8):
        n, typed, brand = g.number()
        s = g.rng.randint(1, 5)
        rows.append(Row("vote", brand, f"number={n};score={s}", f"{typed}号{s}分"))
    corrections = (
        "不是{a}号，我要投{c}号",
        "投{a}号，不对，是{c}号",
        "刚才说错了，不是{a}号，投{c}号",
        "我不投{a}号了，改投{c}号",
    )
    for _ in range(10):
        n, typed, brand = g.number()
        a = g.rng.choice([x for x in range(1, 10) if x != n])
        rows.append(Row("vote", brand, f"number={n}", g.pick(corrections).format(a=a, c=typed)))
    brand_corrections = (
        "不投{a}了，改投{c}",
        "{a}不投了，我投{c}",
        "我投{c}，不投{a}",
        "说错了，不是{a}，是投{c}",
    )
    for _ in range(10):
        name, surface = g.brand()
        other = g.rng.choice([b for b, _ in g.brands if b != name])
        rows.append(Row("vote", name, "", g.pick(brand_corrections).format(a=other, c=surface)))
    bare = (
        "我要投票",
        "怎么投票",
        "投票在哪",
        "投票入口在哪",
        "我想投个票",
        "在哪投",
        "投票咋弄",
        "俺要投票",
        "给品牌投票",
        "我要打分",
        "怎么打分",
        "评分在哪",
        "想给品牌打个分",
        "投票怎么投",
        "我来投票了",
        "投票投票",
        "去哪里投票啊",
        "我要点赞",
        "在哪里给品牌打分",
        "投个票",
    )
    for text in bare:
        rows.append(Row("vote", None, "", text))
    for word, s in SATISFIED:
        rows.append(Row("vote", None, f"score={s}", word, styles=False))
    for s in range(1, 6):
        rows.append(Row("vote", None, f"score={s}", f"{s}分", styles=False))
        rows.append(Row("vote", None, f"score={s}", f"{CN_DIGITS[s]}星", styles=False))
    return rows


def status_rows(g: Gen) -> list[Row]:
    rows: list[Row] = []
    about = (
        "{b}进展怎么样了",
        "{b}到哪一步了",
        "查询{b}",
        "查一下{b}",
        "{b}现在啥情况",
        "{b}建成了吗",
        "{b}评上了吗",
        "{b}的社会认可度怎么样",
        "{b}排第几",
        "{b}现在排第几名",
        "{b}搞得咋样了",
        "{b}通过验收没有",
        "{b}认可度高不高",
        "{b}现在是什么阶段",
        "{b}啥时候能建好",
        "{b}评估结果出来没",
        "{b}在全省排第几",
        "{b}进度如何",
        "{b}现在怎么样了",
        "想了解一下{b}的情况",
        "{b}办到哪了",
        "{b}得了多少票",
        "{b}现在票数多少",
        "{b}的认可度指数是多少",
        "{b}通过评审了吗",
        "{b}的创建进度",
        "{b}弄好了没",
        "查查{b}",
        "{b}这个品牌怎么样",
        "{b}最后评了第几",
        "{b}是啥",
        "{b}是干什么的",
        "{b}是哪个单位搞的",
        "{b}现在有多少人投了",
    )
    for _ in range(50):
        name, surface = g.brand()
        rows.append(Row("status", name, "", g.pick(about).format(b=surface)))
    tickets = (
        "{t}",
        "查询{t}",
        "{t}处理了吗",
        "我的建议{t}有回复了吗",
        "工单号{t}",
        "{t}怎么样了",
        "帮我查查{t}的进度",
        "{t}到哪了",
        "单号{t}啥情况",
        "查一下{t}",
        "建议{t}处理得怎么样了",
        "{t}有人管吗",
    )
    for _ in range(18):
        canonical, typed = g.ticket()
        rows.append(Row("status", None, f"ticket={canonical}", g.pick(tickets).format(t=typed)))
    mine = (
        "我的建议怎么样了",
        "我提的意见有回复了吗",
        "上回反映那事有下文没",
        "上次说的那个事处理了没",
        "之前投诉的有结果了吗",
        "我反映的问题咋样了",
        "前几天提的建议有人管吗",
        "我的投诉有结果没",
        "上个月反映的事有回音没",
        "我之前提的意见处理了吗",
        "查看我的建议",
        "我的反馈有结果吗",
        "上周投诉的那个事怎么样了",
        "之前反映的问题有人管没",
        "我提交的建议到哪了",
        "我上次提的建议有答复吗",
        "前段时间反映的那事咋样了",
        "我的意见有人看吗",
        "上回说的加班费的事有下文没",
        "之前提的建议办了没有",
    )
    for text in mine:
        rows.append(Row("status", None, "text=我的建议", text))
    # Follow-ups on one's own complaint, built from parts: who/when × verb × what × asking how it went.
    whens = (
        "上回",
        "上次",
        "之前",
        "前几天",
        "前天",
        "上礼拜",
        "上个月",
        "前段时间",
        "我",
        "俺",
        "俺上周",
        "我前两天",
    )
    verbs = ("反映", "投诉", "提", "说", "反馈", "提交")
    things = (
        "的事",
        "那事",
        "的那个事",
        "的问题",
        "的那个建议",
        "的食堂问题",
        "的加班费的事",
        "的宿舍的事",
        "的意见",
    )
    follows = (
        "有下文没",
        "有结果没",
        "咋样了",
        "有人管没",
        "咋还没人回",
        "有进展吗",
        "到底有没有人看啊",
        "咋没动静了",
        "处理了吗",
        "有回音吗",
        "怎么没人理",
        "办了没有",
    )
    for _ in range(30):
        text = g.pick(whens) + g.pick(verbs) + g.pick(things) + g.pick(follows)
        rows.append(Row("status", None, "text=我的建议", text))
    ranking = (
        "现在哪个品牌排第一",
        "认可度排名在哪里看",
        "社会认可度排行榜",
        "现在排第一的是哪个品牌",
        "认可度最高的是哪个",
        "哪个品牌认可度最高",
    )
    for text in ranking:
        rows.append(Row("status", None, "", text))
    return rows


def suggest_rows(g: Gen) -> list[Row]:
    rows: list[Row] = []
    for text in COMPLAINTS:
        rows.append(Row("suggest", None, f"text={text}", text, styles=False))
    frames = (
        "{c}，这咋整",
        "{c}，希望工会管管",
        "{c}，希望工会过问一下",
        "投诉{c}",
        "反映个问题，{c}",
        "我想反映一下，{c}",
        "{c}，能不能解决一下",
        "对这事很不满意，{c}",
        "{c}，大家都很不满意",
        "吐槽一下，{c}",
        "{c}，好久了没人管",
        "俺们那{c}，咋弄嘞",
        "我在这干了8年了，{c}",
        "{c}，我们三班的都有意见",
        "工会能不能管一下，{c}",
        "说个事，{c}",
        "{c}，找谁反映",
        "{c}。希望尽快解决。",
        "我要投诉，{c}",
        "{c}，太不像话了",
        "对食堂很不满意，{c}",
        "我们对这个安排不满意，{c}",
        "{c}，怎么办",
        "有个情况想说一下，{c}",
        "{c}，领导也不管",
    )
    for _ in range(45):
        rows.append(Row("suggest", None, "", g.pick(frames).format(c=g.pick(COMPLAINTS))))
    wish = (
        "建议{w}",
        "建议：{w}",
        "我提个建议，{w}",
        "希望{w}",
        "能不能{w}",
        "我有个想法，{w}",
        "提个意见：{w}",
        "要是能{w}就好了",
    )
    for _ in range(25):
        w = g.pick(WISHES)
        frame = g.pick(wish)
        args = f"text={w}" if frame in ("建议{w}", "建议：{w}") else ""
        rows.append(Row("suggest", None, args, frame.format(w=w)))
    brand_frames = (
        "{b}的老师讲课太快了",
        "{b}开放时间太短了",
        "{b}的饮水机坏了一个星期了",
        "建议{b}多搞点活动",
        "{b}离我们太远了，希望在园区也建一个",
        "投诉{b}的工作人员态度差",
        "{b}的椅子都坏了没人修",
        "给{b}提个建议：周末也开",
        "对{b}很不满意，去了三次都没人",
        "{b}报名太麻烦了，建议简化",
        "{b}的微波炉坏了",
        "{b}的空调不制冷",
        "{b}的工作人员经常不在",
        "{b}那边的厕所太脏",
        "{b}的课排在上班时间，去不了",
        "{b}的书好几年没换了",
        "{b}答应的事一直没办",
        "我对{b}不满意，报了名一直没通知",
    )
    for _ in range(30):
        name, surface = g.brand()
        rows.append(Row("suggest", name, "", g.pick(brand_frames).format(b=surface)))
    anon = (
        "匿名反映：{c}",
        "{c}（匿名）",
        "{c}，别写我名字",
        "{c}，不想让人知道是我",
        "{c}，别告诉别人是我说的",
        "我要匿名投诉，{c}",
        "{c}，请帮我保密",
        "{c}，不要透露我的名字",
        "别公开我的信息啊，{c}",
        "这事别说是我反映的啊，{c}",
        "别让领导知道是我，{c}",
        "{c}，千万别说是我说的",
        "不想让班长知道是我，{c}",
        "{c}，我的名字别往外说",
    )
    for _ in range(24):
        rows.append(Row("suggest", None, "anon", g.pick(anon).format(c=g.pick(COMPLAINTS))))
    named = ("{c}，我不想匿名，我叫{n}", "我实名反映，{c}", "不用匿名，我是{n}，{c}")
    for _ in range(6):
        rows.append(Row("suggest", None, "", g.pick(named).format(c=g.pick(COMPLAINTS), n=g.pick(NAMES))))
    for text in ("我有个建议", "提建议", "我要提意见", "我要投诉", "我想反映个问题", "我要吐槽", "提个意见"):
        rows.append(Row("suggest", None, "", text))
    return rows


def survey_rows(g: Gen) -> list[Row]:
    rows: list[Row] = []
    for text in (
        "问卷",
        "我要填问卷",
        "满意度调查在哪",
        "参加测评",
        "我要参加满意度测评",
        "填个调查表",
        "调查问卷发我",
        "咋填问卷嘞",
        "听说有个问卷，在哪填",
        "测评在哪参加",
        "我来答题",
        "满意度",
        "参与调研",
        "问卷有奖吗",
        "我想做个问卷调查",
        "满意度测评怎么参加",
        "我要参加测评",
        "给我发个问卷",
        "填问卷",
        "满意度问卷在哪",
        "开始答题",
        "我要做满意度调查",
        "调查表怎么填",
        "问卷链接发一下",
        "参加满意度调查",
    ):
        rows.append(Row("survey", None, "", text))
    frames = (
        "{b}的问卷",
        "参加{b}满意度调查",
        "{b}满意度测评",
        "{b}的满意度问卷在哪填",
        "我要填{b}的调查表",
        "{b}测评怎么参加",
    )
    for _ in range(12):
        name, surface = g.brand()
        rows.append(Row("survey", name, "", g.pick(frames).format(b=surface)))
    return rows


def progress_rows(g: Gen) -> list[Row]:
    rows: list[Row] = []
    for _ in range(10):
        name, surface = g.brand()
        r = g.pick(REPORTS)
        rows.append(Row("progress", name, f"text={r}", f"上报进度 {name} {r}", styles=False))
    frames = (
        "上报{b}进度：{r}",
        "汇报一下{b}本月工作，{r}",
        "{b}{r}，上报一下",
        "报送{b}进展，{r}",
        "{b}本周{r}，特此上报",
        "上报{b}工作进展：{r}",
    )
    for _ in range(16):
        name, surface = g.brand()
        rows.append(Row("progress", name, "", g.pick(frames).format(b=surface, r=g.pick(REPORTS))))
    photo = ("{b}今天举办了{a}，发几张照片", "上传{b}的{a}照片", "{b}{a}的照片", "发照片 {b}{a}")
    for _ in range(10):
        name, surface = g.brand()
        rows.append(Row("progress", name, "", g.pick(photo).format(b=surface, a=g.pick(ACTIVITIES))))
    for text in (
        "我要上报进度",
        "上报进度",
        "发活动照片",
        "传几张照片",
        "提交工作进展",
        "我是干部，要上报进度",
        "报进度",
        "汇报工作",
        "怎么上传照片",
        "本周活动照片上传",
        "今天组织了技能比武，上报进度",
        "上报本月品牌工作情况",
    ):
        rows.append(Row("progress", None, "", text))
    return rows


def bind_rows(g: Gen) -> list[Row]:
    rows: list[Row] = []
    frames = (
        "绑定 {k}",
        "绑定会员卡 {k}",
        "邀请码{k}",
        "我的会员卡号是{k}",
        "输入邀请码 {k}",
        "我是{o}工会主席，邀请码{k}",
        "绑卡{k}",
        "会员卡号{k}",
        "干部邀请码{k}",
        "绑定一下 {k}",
        "邀请码：{k}",
        "我的邀请码是{k}",
    )
    for _ in range(22):
        code, typed = g.code()
        rows.append(
            Row("bind", None, f"text={code}", g.pick(frames).format(k=typed, o=g.pick(ORGS)), styles=False)
        )
    reviewer = ("评议 {k}", "评议码 {k}", "评议码：{k}", "我是评议人，评议码{k}", "评议人 {k}")
    for _ in range(6):
        code = "PY" + "".join(g.rng.choice("0123456789ABCDEF") for _ in range(8))
        typed = code.lower() if g.rng.random() < 0.5 else code
        rows.append(Row("bind", None, f"text={code}", g.pick(reviewer).format(k=typed), styles=False))
    for text in (
        "绑定",
        "我要绑定",
        "怎么绑定会员卡",
        "会员卡怎么绑",
        "认证工会干部身份",
        "邀请码在哪输入",
        "我是工会干部，怎么绑定",
        "我想绑定会员卡",
        "邀请码",
        "绑定身份",
        "咋绑定啊",
        "干部怎么认证",
    ):
        rows.append(Row("bind", None, "", text))
    return rows


def simple_rows() -> list[Row]:
    groups = {
        "list": (
            "候选品牌有哪些",
            "能投的都有哪些",
            "有啥可以投的",
            "候选名单",
            "名单发我看看",
            "品牌都有啥",
            "参评的有哪些",
            "入围名单",
            "票数排名",
            "排行榜",
            "现在谁票最多",
            "看看都有谁",
            "参选品牌",
            "这次评选都有哪些品牌",
            "可以投哪些",
            "能投的品牌发一下",
            "都有哪些候选",
            "有几个品牌参评",
            "候选的都有谁",
            "排名怎么样了",
            "能看看榜单吗",
            "榜单发一下",
            "现在排行怎么样",
            "都有哪些项目参加评选",
            "俺瞅瞅能投谁",
            "能投谁",
            "看看能投哪些",
            "候选 2",
            "候选名单 3",
            "都能投哪几个",
            "可以选哪些品牌",
        ),
        "help": (
            "你好",
            "你们好",
            "您好",
            "在吗",
            "帮助",
            "怎么用",
            "这个公众号能干啥",
            "有什么功能",
            "菜单",
            "？",
            "使用说明",
            "不会用",
            "咋用啊",
            "有人吗",
            "帮帮我",
            "功能介绍",
            "人工客服",
            "你好，请问这个是干嘛的",
            "老师好",
            "早上好",
            "各位好",
            "你们好呀",
            "这个号是干什么的",
            "我刚关注，怎么用",
            "能做些什么",
            "怎么操作",
            "求助",
            "晚上好",
            "有人没",
            "有人在吗",
            "客服在吗",
            "喂",
            "这个怎么弄",
            "我该怎么操作",
            "help",
            "menu",
            "帮助一下",
        ),
        "cancel": (
            "取消",
            "退出",
            "不投了",
            "算了",
            "不弄了",
            "不填了",
            "退出问卷",
            "别投了",
            "不想填了",
            "取消上报",
            "不绑定了",
            "不想投诉了",
            "我不参加了",
            "算了算了",
            "撤回",
            "不用了",
            "先不弄了",
            "不搞了",
            "俺不投了",
            "不想提了",
            "结束",
            "取消吧",
            "不报了",
            "算了不投了",
            "我不想投票了",
            "不想填问卷了",
            "不想上报了",
            "我不弄了，退出",
            "先不投了，谢谢",
        ),
        "unknown": (
            "今天天气不错",
            "下周几号发工资",
            "厂里几点下班",
            "好的",
            "收到",
            "嗯",
            "123",
            "哈哈",
            "你是机器人吗",
            "我是新来的",
            "中午吃啥",
            "明天放假吗",
            "快乐学习",
            "菜鸟驿站的快递到了吗",
            "工会在几楼",
            "领导好",
            "今天下雨了",
            "哦哦",
            "吃了吗",
            "你们几点上班",
            "我叫张三",
            "第一次来",
            "周末加不加班",
            "班车几点发车",
            "十一放几天假",
            "我在开会",
            "明天见",
            "好嘞",
            "知道了",
            "三号车间在哪",
            "食堂今天吃什么",
            "晚上几点交班",
            "哈哈哈哈",
            "123abc",
            "化工厂的安全员是谁",
            "榜上有名",
            "车间主任是谁",
            "工会主席叫什么",
            "我要请假",
            "发票怎么开",
            "今天几号",
            "。。。",
            "谁捡到一个黑色钱包",
            "有人丢了一串钥匙在门口",
            "股票啥时候能涨",
            "发个红包呗",
            "抢红包了",
            "彩票中奖号码是多少",
            "世界杯谁能赢",
            "我儿子今天考了98分",
            "闺女期末考了95分",
            "下午3点开会",
            "晚上吃火锅去不",
            "明天降温了多穿点",
            "这周六调休吗",
            "快递放门卫了",
            "谁有充电宝借一下",
            "电动车充电桩在哪",
            "楼下有卖水果的吗",
            "老家的房子要拆迁了",
            "今天是星期几",
            "几点了",
            "路上堵车了",
            "我刚到家",
            "周末去钓鱼",
            "天冷了",
            "晚饭吃了",
            "谁知道这个月几号发工资",
            "油价又涨了",
            "我的手机号换了",
            "新年快乐",
            "国庆节快乐",
            "？？？",
            "？？",
            "嗯嗯嗯嗯",
            "嗯嗯",
            "6666",
            "888",
            "ok",
            "好滴",
            "行",
        ),
    }
    return [Row(intent, None, "", text) for intent, texts in groups.items() for text in texts]


TIMES = (
    "今天",
    "明天",
    "昨天",
    "周末",
    "晚上",
    "下午四点",
    "刚才",
    "过两天",
    "五一",
    "国庆",
    "下个月",
    "早上",
)
PEOPLE = ("我", "我家孩子", "我媳妇", "老王", "班长", "我妈", "同事小李", "我们几个", "隔壁老张", "俺闺女")
DOINGS = (
    "去超市买菜",
    "去爬山",
    "回老家",
    "吃火锅",
    "去医院看牙",
    "打篮球",
    "接孩子放学",
    "给手机充话费",
    "买了辆电动车",
    "搬家",
    "去钓鱼",
    "学开车",
    "参加婚礼",
    "坐高铁去济南",
    "去公园散步",
    "在家看电视",
    "包饺子",
    "去理发",
    "练毛笔字",
    "带老人去赶集",
)
TAILS = ("", "，挺好的", "，开心", "，你们去不去", "，一起啊", "哈哈", "，拍了几张照片", "，刚回来")
CHATTER = (
    "快递到了放门卫了",
    "外卖放门口就行",
    "楼下水果店打八折",
    "谁看见我的水杯了",
    "充电器借我用一下",
    "门口那辆车挡道了",
    "明天记得带伞",
    "晚上一起吃饭不",
    "你叫什么名字",
    "你是男的女的",
    "会唱歌吗",
    "讲个笑话",
    "帮我订个酒店",
    "附近哪有加油站",
    "高铁几点开",
    "明天下雨吗",
    "这歌叫啥名",
    "发错了",
    "刚才那条发错了",
    "测试一下",
    "试试",
    "第一条消息",
    "再试一次",
    "我的电话是13900001111",
    "车牌号鲁A12345",
    "身份证丢了咋补办",
    "医保卡怎么激活",
    "公积金怎么提取",
    "孩子上学报名要啥材料",
    "驾照年审在哪办",
    "两斤苹果多少钱",
    "三楼的灯是谁关的",
    "一共五个人",
    "买了两张电影票",
    "八点到公司",
    "等我十分钟",
)


def unknown_rows(g: Gen) -> list[Row]:
    """Everyday chat the account cannot act on: neutral, often with numbers and unseen words."""
    rows = [Row("unknown", None, "", text) for text in CHATTER]
    for _ in range(40):
        person, when, doing = g.pick(PEOPLE), g.pick(TIMES), g.pick(DOINGS)
        text = (f"{when}{person}{doing}" if g.rng.random() < 0.5 else f"{person}{when}{doing}") + g.pick(
            TAILS
        )
        rows.append(Row("unknown", None, "", text))
    return rows


def mixed_rows(g: Gen) -> list[Row]:
    """Several clauses: the request is the last one; negation of another intent."""
    rows: list[Row] = []
    for _ in range(6):
        name, surface = g.brand()
        rows.append(Row("status", name, "", f"我已经投过票了，想问下{surface}现在啥情况"))
        rows.append(Row("status", name, "", f"我不是要投诉，就是问问{surface}进展"))
    for _ in range(6):
        rows.append(Row("suggest", None, "", f"问卷填完了，再反映个问题：{g.pick(COMPLAINTS)}"))
        rows.append(Row("suggest", None, "", f"不是要投票，是想提个建议，{g.pick(WISHES)}"))
    rows.append(Row("help", None, "", "没有要绑定，只是问问这个怎么用"))
    rows.append(Row("cancel", None, "", "不想投了，退出吧"))
    return rows


GENERATORS: tuple[Callable[[Gen], list[Row]], ...] = (
    vote_rows,
    status_rows,
    suggest_rows,
    survey_rows,
    progress_rows,
    bind_rows,
    mixed_rows,
    unknown_rows,
)


def generate(catalogue: str, seed: int = SEED) -> list[Row]:
    rng = random.Random(f"{seed}-{catalogue}")
    g = Gen(CATALOGUES[catalogue], rng)
    rows: list[Row] = []
    for make in GENERATORS:
        rows += make(g)
    rows += simple_rows()
    styled = [style(row, rng) for row in rows]
    seen: set[str] = set()
    out = []
    for row in styled:
        message = row.message.strip()
        if message and message not in seen and "|" not in message:
            seen.add(message)
            out.append(Row(row.intent, row.brand, row.args, message))
    return out


def write(directory: Path = CORPUS_DIR) -> list[Path]:
    written = []
    for catalogue, brands in CATALOGUES.items():
        brands_file = directory / f"brands_{catalogue}.txt"
        brands_file.write_text(
            "# 虚构的品牌目录（生成语料用）：每行「名称|别名」，第 i 行是候选 i 号。\n"
            + "".join("|".join((name, *aliases)) + "\n" for name, aliases in brands),
            encoding="utf-8",
        )
        lines = [
            f"# 生成的训练语料（python -m nlp.corpus，种子 {SEED}；不要手改：改生成器后重新生成）。",
            "# 格式同 tuned_eval.txt：意图 | 品牌 | 参数 | 消息。",
            f"@brands {brands_file.name}",
            "",
        ]
        lines += [f"{r.intent} | {r.brand or ''} | {r.args} | {r.message}" for r in generate(catalogue)]
        path = directory / f"gen_{catalogue}.txt"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        written += [brands_file, path]
    return written


if __name__ == "__main__":
    import sys

    for p in write():
        sys.stdout.write(f"{p}\n")
