"""Issue 14: the web signals an H5 page attaches to its event (parsing, privacy, storage)."""

from __future__ import annotations

import hashlib
import ipaddress
import struct
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.recognition.ip_data import (
    Ip2Region,
    IpData,
    IpFacts,
    PrefixTable,
    default_ip_data,
    load_idc,
    load_regions,
    province_name,
)
from handlers.recognition.recording import record_rating
from handlers.recognition.web_signals import (
    WebSignal,
    attach_signal,
    device_hash,
    dwell_ms,
    ua_family,
    web_signal,
)
from models.recognition_web import RecognitionWebSignal
from tests.factories import make_user
from tests.handlers.recognition.conftest import T0, make_campaign

NOW = T0 + timedelta(hours=3)

# Real user agents of WeChat's in-app browser (they all carry "MicroMessenger/<version>").
WECHAT_ANDROID = (
    "Mozilla/5.0 (Linux; Android 13; V2219A Build/TP1A.220624.014; wv) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Version/4.0 Chrome/116.0.0.0 Mobile Safari/537.36 XWEB/1160065 MMWEBSDK/20231202 MMWEBID/2247 "
    "MicroMessenger/8.0.47.2560(0x28002F30) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN ABI/arm64"
)
WECHAT_IOS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.47(0x18002f2c) NetType/WIFI Language/zh_CN"
)
WECHAT_IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Mobile/15E148 MicroMessenger/8.0.40(0x18002831) NetType/WIFI Language/zh_CN"
)
WECHAT_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/81.0.4044.138 "
    "Safari/537.36 NetType/WIFI MicroMessenger/7.0.20.1781(0x6700143B) WindowsWechat(0x63090a13) XWEB/8555 Flue"
)
WECHAT_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "MicroMessenger/6.8.0(0x16080000) MacWechat/3.8.7(0x13080710) XWEB/1191 Flue"
)


@pytest.mark.parametrize(
    ("ua", "family"),
    [
        (WECHAT_ANDROID, "wechat-android"),
        (WECHAT_IOS, "wechat-ios"),
        (WECHAT_IPAD, "wechat-ios"),
        (WECHAT_WINDOWS, "wechat-pc"),
        (WECHAT_MAC, "wechat-pc"),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.2 Mobile/15E148 Safari/604.1",
            "mobile-browser",
        ),
        (
            "Mozilla/5.0 (Linux; Android 10; CUBOT X19) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Mobile Safari/537.36",
            "mobile-browser",  # "CUBOT" is a phone maker, not a bot
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
            "Chrome/120.0.0.0 Safari/537.36",
            "desktop-browser",
        ),
        ("Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", "bot"),
        ("curl/8.5.0", "bot"),
        ("python-requests/2.31.0", "bot"),
        (
            "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.0.0 "
            "Safari/537.36",
            "bot",
        ),
        ("", "other"),
        (None, "other"),
        ("某个奇怪的客户端", "other"),
    ],
)
def test_user_agent_families(ua: str | None, family: str) -> None:
    assert ua_family(ua) == family


@pytest.mark.parametrize(
    ("addr", "prefix", "province", "city", "idc"),
    [
        ("218.56.1.1", "218.56.1.0/24", "山东省", "聊城市", False),
        (" 60.30.1.1 ", "60.30.1.0/24", "天津市", "天津市", False),
        ("::ffff:218.56.1.1", "218.56.1.0/24", "山东省", "聊城市", False),  # IPv4-mapped
        ("47.92.1.1", "47.92.1.0/24", "河北省", "张家口市", True),  # Alibaba Cloud
        ("119.29.1.1", "119.29.1.0/24", "广东省", "广州市", True),  # Tencent Cloud (its ISP label says 电信)
        ("203.0.113.7", "203.0.113.0/24", None, None, False),  # documentation range: no region
        ("8.8.8.8", "8.8.8.0/24", None, None, False),  # abroad
        ("2409:8a00:1234:5678::1", "2409:8a00:1234::/48", None, None, False),  # IPv6: no v6 data bundled
        ("[2001:db8:1:2::3]", "2001:db8:1::/48", None, None, False),
    ],
)
def test_addresses_keep_only_a_prefix_and_its_region(
    addr: str, prefix: str, province: str | None, city: str | None, idc: bool
) -> None:
    sig = web_signal(addr, WECHAT_ANDROID, None, None, NOW)
    assert (sig.ip_prefix, sig.province, sig.city, sig.idc) == (prefix, province, city, idc)
    full = addr.strip().strip("[]")
    if not full.endswith(".0"):
        assert full not in repr(sig)  # the full address is nowhere in what is stored


@pytest.mark.parametrize(
    "addr",
    [
        None,
        "",
        "not-an-ip",
        "999.1.1.1",
        "1.2.3",
        "218.56.1.1, 10.0.0.1",  # an unparsed X-Forwarded-For list
        "218.56.1.1:443",
        "10.1.2.3",  # a proxy that was not trusted, or a test: not the client
        "192.168.1.20",
        "127.0.0.1",
        "100.64.3.4",
        "::1",
        "fe80::1%eth0",
        "fd12:3456::1",
    ],
)
def test_malformed_or_internal_addresses_give_no_ip_fields(addr: str | None) -> None:
    sig = web_signal(addr, WECHAT_IOS, "cookie-1", T0, NOW)
    assert (sig.ip_prefix, sig.province, sig.city, sig.idc) == (None, None, None, False)
    assert sig.ua_family == "wechat-ios" and sig.device_hash is not None  # the rest still works


def test_the_device_hash_is_keyed_and_stable() -> None:
    one, again, other = device_hash("dev-abc"), device_hash("dev-abc"), device_hash("dev-abd")
    assert one == again and one != other and one is not None and len(one) == 64
    assert one != hashlib.sha256(b"dev-abc").hexdigest() and "dev-abc" not in one
    assert device_hash(None) is None and device_hash("  ") is None
    assert device_hash("x" * 257) is None and device_hash("a\nb") is None


def test_dwell_is_submit_minus_render() -> None:
    assert dwell_ms(NOW - timedelta(seconds=42.5), NOW) == 42_500
    assert dwell_ms(NOW, NOW) == 0
    assert dwell_ms(None, NOW) is None
    assert dwell_ms(NOW + timedelta(seconds=5), NOW) is None  # a render time in the future
    assert dwell_ms(datetime(2026, 11, 2, 3, 59, 59), NOW) == 1_000  # naive means UTC
    assert dwell_ms(NOW - timedelta(days=40), NOW) == 2**31 - 1  # capped to the column


def test_province_names_are_normalised() -> None:
    for short, full in (
        ("吉林", "吉林省"),
        ("吉林省", "吉林省"),
        ("内蒙古", "内蒙古自治区"),
        ("黑龙江省", "黑龙江省"),
        ("广西", "广西壮族自治区"),
        ("北京", "北京市"),
        ("香港", "香港特别行政区"),
    ):
        assert province_name(short) == full
    assert province_name("0") is None and province_name("加利福尼亚") is None and province_name(None) is None


def test_prefix_table_most_specific_wins() -> None:
    table = PrefixTable(
        [
            (ipaddress.ip_network("10.0.0.0/8"), "wide"),
            (ipaddress.ip_network("10.1.0.0/16"), "narrow"),
            (ipaddress.ip_network("2001:db8::/32"), "v6"),
        ]
    )
    assert table.get(ipaddress.ip_address("10.1.2.3")) == "narrow"
    assert table.get(ipaddress.ip_address("10.2.2.3")) == "wide"
    assert table.get(ipaddress.ip_address("11.0.0.1")) is None
    assert table.get(ipaddress.ip_address("2001:db8:5::1")) == "v6"
    assert table.get(ipaddress.ip_address("2001:db9::1")) is None


def test_operators_region_table_comes_first_and_covers_ipv6(tmp_path: Path) -> None:
    csv = tmp_path / "regions.csv"
    csv.write_text(
        "# 运维补充\ncidr,province,city\n2409:8a00::/32,广东,广州市\n218.56.1.0/24,山东,济南市\n坏行,山东,\n",
        encoding="utf-8",
    )
    base = default_ip_data()
    data = IpData(base.idc, base.isp_labels, load_regions(csv), base.ip2region)
    facts = data.lookup(ipaddress.ip_address("2409:8a00:1234::9"))
    assert (facts.province, facts.city) == ("广东省", "广州市")
    assert data.lookup(ipaddress.ip_address("218.56.1.1")).city == "济南市"  # the operator's correction
    assert data.lookup(ipaddress.ip_address("218.56.2.1")).city == "聊城市"  # ip2region elsewhere
    assert len(load_regions(tmp_path / "missing.csv")) == 0


def test_isp_labels_count_as_idc_beyond_the_table() -> None:
    base = default_ip_data()
    no_table = IpData(PrefixTable([]), base.isp_labels, base.regions, base.ip2region)
    assert no_table.lookup(ipaddress.ip_address("47.92.1.1")).idc  # labelled 阿里云 in ip2region
    assert not no_table.lookup(ipaddress.ip_address("119.29.1.1")).idc  # labelled 电信: the table's job
    assert not no_table.lookup(ipaddress.ip_address("218.56.1.1")).idc


def test_the_shipped_alibaba_ranges_agree_with_ip2region() -> None:
    """The hand-made IDC table, checked where the bundled data can check it."""
    table, _ = load_idc()
    data = default_ip_data()
    assert data.ip2region is not None
    ranges = [(net, p) for (v, _), nets in table._by_len.items() if v == 4 for net, p in nets.items()]
    ali = [ipaddress.IPv4Address(n) for n, p in ranges if p == "阿里云"]
    assert len(ali) >= 30
    for start in ali:
        found = data.ip2region.search(start + 257)
        assert found is not None and found[3] in ("阿里云", "阿里巴巴"), (start, found)


def test_attach_signal_stores_what_the_page_saw_once(session: Session, brands) -> None:
    c = make_campaign(session, "rating")
    user = make_user(session)
    out = record_rating(session, user, c, brands[0], 5, "h5:1", NOW, channel="h5")
    assert out.event_id is not None
    sig = web_signal("218.56.1.77", WECHAT_ANDROID, "dev-1", NOW - timedelta(seconds=30), NOW)
    attach_signal(session, out.event_id, sig, NOW)
    attach_signal(session, out.event_id, WebSignal(None, None, None, True, "bot", None, None), NOW)  # a retry
    rows = list(session.scalars(select(RecognitionWebSignal)))
    assert len(rows) == 1
    row = rows[0]
    assert (row.event_id, row.campaign_id, row.ip_prefix, row.province, row.city, row.idc) == (
        out.event_id,
        c.id,
        "218.56.1.0/24",
        "山东省",
        "聊城市",
        False,
    )
    assert (row.ua_family, row.device_hash, row.dwell_ms) == ("wechat-android", device_hash("dev-1"), 30_000)
    assert row.created_at == NOW.astimezone(UTC)
    with pytest.raises(ValueError):
        attach_signal(session, 10**9, sig, NOW)


def _tiny_xdb(path: Path, segments: list[tuple[str, str, str]]) -> None:
    """An ip2region xdb 2.0 file written from its published layout, for the reader alone."""
    header = struct.pack("<HH", 2, 1).ljust(256, b"\0")
    vector = bytearray(256 * 256 * 8)
    seg_at = 256 + len(vector)
    data = b""
    data_at = seg_at + 14 * len(segments)
    index = b""
    rows = []
    for start, end, region in segments:
        raw = region.encode()
        rows.append(
            (
                int(ipaddress.IPv4Address(start)),
                int(ipaddress.IPv4Address(end)),
                len(raw),
                data_at + len(data),
            )
        )
        data += raw
    for i, (s, e, n, ptr) in enumerate(rows):
        index += struct.pack("<IIHI", s, e, n, ptr)
        for hi16 in range(s >> 16, (e >> 16) + 1):  # every /16 the segment touches points at it
            off = hi16 * 8
            first, _ = struct.unpack_from("<II", vector, off)
            struct.pack_into("<II", vector, off, first or seg_at + 14 * i, seg_at + 14 * i)
    path.write_bytes(header + bytes(vector) + index + data)


def test_the_xdb_reader_follows_the_file_layout(tmp_path: Path) -> None:
    path = tmp_path / "tiny.xdb"
    _tiny_xdb(
        path,
        [
            ("1.0.0.0", "1.0.0.255", "中国|0|福建省|福州市|电信"),
            ("1.0.1.0", "1.0.3.255", "中国|0|吉林|长春市|联通"),
            ("1.0.4.0", "1.0.255.255", "澳大利亚|0|0|0|0"),
        ],
    )
    reader = Ip2Region(path)
    assert reader.search(ipaddress.ip_address("1.0.0.9")) == ("中国", "福建省", "福州市", "电信")
    assert reader.search(ipaddress.ip_address("1.0.2.9")) == ("中国", "吉林", "长春市", "联通")
    assert reader.search(ipaddress.ip_address("1.0.9.9")) == ("澳大利亚", "", "", "")
    assert reader.search(ipaddress.ip_address("9.9.9.9")) is None  # no segment for that /16
    assert reader.search(ipaddress.ip_address("2001:db8::1")) is None
    data = IpData(PrefixTable([]), frozenset(), PrefixTable([]), reader)
    assert data.lookup(ipaddress.ip_address("1.0.2.9")) == IpFacts("吉林省", "长春市", False)
    bad = tmp_path / "bad.xdb"
    bad.write_bytes(b"\3\0" + b"\0" * 600_000)
    with pytest.raises(ValueError):
        Ip2Region(bad)
