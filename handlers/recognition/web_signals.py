"""The web signals of an H5 page submission (docs/method/fraud.md §8: F1, F2, F5, B4 and privacy).

The page records the vote or rating with ``record_vote`` / ``record_rating`` and then, in the
same transaction, ``attach_signal(session, outcome.event_id, web_signal(...), now)``. Only
what the rules need is kept: the address's prefix (IPv4 /24, IPv6 /48) and its 省/市, whether
the full address was a data-centre one, the user agent's family, a keyed hash of the page's
long-lived device cookie, and the time on the page. The full address, the user agent string and
the cookie value are never stored. Chat events have no signal, so these rules never see them.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from handlers.anonymity import keyed
from handlers.recognition.ip_data import IPAddress, default_ip_data
from models.recognition import RecognitionEvent
from models.recognition_web import RecognitionWebSignal

UA_FAMILIES = (
    "wechat-android",
    "wechat-ios",
    "wechat-pc",
    "wechat-other",
    "mobile-browser",
    "desktop-browser",
    "bot",
    "other",
)
MAX_DEVICE_ID = 256  # a longer "cookie" is not ours: no hash, no F1
MAX_DWELL_MS = 2**31 - 1  # the column is a 32-bit integer (≈ 24.8 days)
# Addresses that are never a client's: a proxy in front of the page that was not trusted, or a
# test. They say nothing about the respondent, and one shared prefix would trip B4 everywhere.
_NOT_CLIENT = tuple(
    ipaddress.ip_network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12",
        "192.168.0.0/16", "224.0.0.0/4", "240.0.0.0/4", "::/127", "fc00::/7", "fe80::/10", "ff00::/8",
    )
)  # fmt: skip
# "bot/" with its version (Googlebot/2.1), not "bot" alone: CUBOT is a phone maker.
_BOT = re.compile(
    r"bot/|\+https?://|spider|crawl|slurp|curl/|wget/|python-|aiohttp|httpx|go-http-client|java/|"
    r"okhttp|libwww|scrapy|headless|phantomjs|selenium|puppeteer|playwright|postman|apache-httpclient",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class WebSignal:
    ip_prefix: str | None  # IPv4 /24 ("203.0.113.0/24") or IPv6 /48; never the full address
    province: str | None  # 省 from the IP, None when unknown
    city: str | None
    idc: bool  # the address is in a data-centre / cloud / proxy range (F2), decided from the full IP
    ua_family: str  # one of UA_FAMILIES
    device_hash: str | None  # keyed hash of the page's long-lived device cookie (and nothing else)
    dwell_ms: int | None  # time on page: submit − page render (from a signed render time)


def parse_address(remote_addr: str | None) -> IPAddress | None:
    """The client's address, IPv4-mapped IPv6 unwrapped; None when malformed or not a client's."""
    if not remote_addr:
        return None
    text = remote_addr.strip()
    if text.startswith("[") and text.endswith("]"):
        text = text[1:-1]
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(addr, ipaddress.IPv6Address):
        if addr.ipv4_mapped is not None:
            addr = addr.ipv4_mapped
        elif addr.scope_id is not None:
            return None  # link-local with a zone: never a client across the internet
    if any(addr.version == net.version and addr in net for net in _NOT_CLIENT):
        return None
    return addr


def ip_prefix(addr: IPAddress) -> str:
    """IPv4 /24 or IPv6 /48 of the address: what is kept of it."""
    length = 24 if addr.version == 4 else 48
    return str(ipaddress.ip_network(f"{addr}/{length}", strict=False))


def ua_family(user_agent: str | None) -> str:
    """The family of a user agent: WeChat's in-app browser by platform, other browsers, bots.

    WeChat adds ``MicroMessenger/<version>`` to every platform's user agent; the PC clients add
    ``WindowsWechat`` or ``MacWechat`` as well.
    """
    ua = (user_agent or "").strip()
    if not ua:
        return "other"
    if _BOT.search(ua):
        return "bot"
    if "MicroMessenger/" in ua:
        if "WindowsWechat" in ua or "MacWechat" in ua:
            return "wechat-pc"
        if "Android" in ua:
            return "wechat-android"
        if re.search(r"iPhone|iPad|iPod", ua):
            return "wechat-ios"
        return "wechat-other"
    if re.search(r"Mobile|Android|iPhone|iPad|iPod|OpenHarmony", ua):
        return "mobile-browser"
    if ua.startswith("Mozilla/") and re.search(r"Windows|Macintosh|X11|Linux|CrOS", ua):
        return "desktop-browser"
    return "other"


def device_hash(device_id: str | None) -> str | None:
    """HMAC of the device cookie under a key from SECRET_KEY: equal for one device, and not
    joinable to the cookie by someone holding only the database."""
    value = (device_id or "").strip()
    if not value or len(value) > MAX_DEVICE_ID or not value.isprintable():
        return None
    return keyed("recognition-device", value)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def dwell_ms(rendered_at: datetime | None, now: datetime) -> int | None:
    """Milliseconds from the page's (signed) render time to the submission; None when unknown or
    when the render time lies in the future."""
    if rendered_at is None:
        return None
    ms = int((_aware(now) - _aware(rendered_at)).total_seconds() * 1000)
    return min(ms, MAX_DWELL_MS) if ms >= 0 else None


def web_signal(
    remote_addr: str | None,
    user_agent: str | None,
    device_id: str | None,
    rendered_at: datetime | None,
    now: datetime,
) -> WebSignal:
    """What one page submission tells the rules. Pass the client's address as the request's
    trusted-proxy rule resolved it; internal and malformed addresses give no IP fields."""
    addr = parse_address(remote_addr)
    if addr is None:
        prefix, province, city, idc = None, None, None, False
    else:
        facts = default_ip_data().lookup(addr)
        prefix, province, city, idc = ip_prefix(addr), facts.province, facts.city, facts.idc
    return WebSignal(
        ip_prefix=prefix,
        province=province,
        city=city,
        idc=idc,
        ua_family=ua_family(user_agent),
        device_hash=device_hash(device_id),
        dwell_ms=dwell_ms(rendered_at, now),
    )


def attach_signal(session: Session, event_id: int, signal: WebSignal, now: datetime) -> None:
    """Store the signal of a just-recorded event. Call it in the transaction that recorded the
    event: the scan reads events once, by id, and would not see a signal attached later. A
    second call for the same event (a retried page) keeps the first signal."""
    if session.get(RecognitionWebSignal, event_id) is not None:
        return
    campaign_id = session.scalar(select(RecognitionEvent.campaign_id).where(RecognitionEvent.id == event_id))
    if campaign_id is None:
        raise ValueError(f"recognition event {event_id} does not exist")
    session.add(
        RecognitionWebSignal(
            event_id=event_id,
            campaign_id=campaign_id,
            ip_prefix=signal.ip_prefix,
            province=signal.province,
            city=signal.city,
            idc=signal.idc,
            ua_family=signal.ua_family if signal.ua_family in UA_FAMILIES else "other",
            device_hash=signal.device_hash,
            dwell_ms=signal.dwell_ms,
            created_at=now,
        )
    )
    session.flush()
