"""Router speed, measured by hand (figures go in docs/zh/performance.md; never a timed test).

    python bench/router_bench.py [--rounds 20] [--brands 500]

Reports: process start-up to the first answer (import, jieba dictionary with and without jieba's cache
file, loading the classifier's parameters, building a Router), resident memory after each step (what
the classifier adds), messages routed per second on one core, and per-message latency p50/p99/max
over human-written messages, for the demo catalogue and a large one.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

# Wall clock, CPU time and resident memory after each start-up step, in a fresh interpreter.
STARTUP = """
import sys, time
def rss():
    with open("/proc/self/status") as fh:
        return next(int(l.split()[1]) for l in fh if l.startswith("VmRSS")) / 1024
def now():
    return time.perf_counter(), time.process_time(), rss()
t0 = now()
from nlp import Router
from nlp import segment, model
from nlp.brands import fuzzy_pinyin
from nlp.normalize import warm_up
from nlp.examples import read_brands
from pathlib import Path
t1 = now()
segment.warm_up(sys.argv[1]); warm_up(); fuzzy_pinyin("工")
t2 = now()
model.get_model()
t3 = now()
router = Router(read_brands(Path(sys.argv[2])))
t4 = now()
router.route("投票给工惠乐学")
t5 = now()
steps = (t0, t1, t2, t3, t4, t5)
for i in (0, 1):
    print(" ".join(f"{b[i] - a[i]:.4f}" for a, b in zip(steps, steps[1:])))
print(" ".join(f"{t[2]:.1f}" for t in steps))
print("sklearn" in sys.modules or "scipy" in sys.modules)
"""


def startup(cache_dir: str, brands: Path) -> tuple[list[float], list[float], list[float], bool]:
    out = subprocess.run(
        [sys.executable, "-c", STARTUP, cache_dir, str(brands)],
        capture_output=True,
        text=True,
        check=True,
        cwd=ROOT,
    ).stdout.splitlines()
    wall, cpu, rss = ([float(x) for x in line.split()] for line in out[:3])
    return wall, cpu, rss, out[3] == "True"


def synthetic_brands(count: int) -> list[tuple[str, tuple[str, ...]]]:
    """Plausible brand names (place + theme + form), unique, with an alias each."""
    places = [
        "齐鲁",
        "泉城",
        "沂蒙",
        "黄河",
        "渤海",
        "泰山",
        "孔孟",
        "运河",
        "海岱",
        "胶东",
        "鲁西",
        "鲁南",
        "半岛",
        "港城",
        "水城",
        "凤城",
        "鸢都",
        "牡丹",
        "沂河",
        "徒骇",
    ]
    themes = [
        "匠心",
        "暖心",
        "连心",
        "同心",
        "安康",
        "书香",
        "巾帼",
        "蓝领",
        "金牌",
        "工友",
        "惠工",
        "助企",
        "爱岗",
        "创新",
        "清风",
        "阳光",
        "和谐",
        "筑梦",
        "先锋",
        "护航",
    ]
    forms = [
        "驿家",
        "课堂",
        "小屋",
        "工作室",
        "服务队",
        "讲习所",
        "加油站",
        "港湾",
        "服务站",
        "联盟",
    ]
    names: list[tuple[str, tuple[str, ...]]] = []
    for p in places:
        for t in themes:
            for f in forms:
                names.append((p + t + f, (t + f,)))
                if len(names) >= count:
                    return names
    return names


def measure(router, messages: list[str], rounds: int) -> dict[str, float]:
    for m in messages:  # warm caches (pinyin per character, regexes)
        router.route(m)
    # Wall clock includes being pre-empted by other processes; thread CPU time is what routing
    # itself costs. On a quiet machine the two agree; on a busy one, wall p99 shows the noise.
    wall: list[int] = []
    cpu: list[int] = []
    started = time.perf_counter()
    cpu_started = time.thread_time()
    for _ in range(rounds):
        for m in messages:
            t = time.perf_counter_ns()
            c = time.thread_time_ns()
            router.route(m)
            cpu.append(time.thread_time_ns() - c)
            wall.append(time.perf_counter_ns() - t)
    elapsed = time.perf_counter() - started
    cpu_elapsed = time.thread_time() - cpu_started
    wall.sort()
    cpu.sort()
    n = len(wall)
    return {
        "per_s": n / elapsed,
        "per_cpu_s": n / cpu_elapsed,
        "p50": wall[n // 2] / 1e6,
        "p99": wall[int(n * 0.99)] / 1e6,
        "max": wall[-1] / 1e6,
        "cpu_p50": cpu[n // 2] / 1e6,
        "cpu_p99": cpu[int(n * 0.99)] / 1e6,
        "cpu_max": cpu[-1] / 1e6,
        "mean": statistics.fmean(wall) / 1e6,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=20)
    parser.add_argument("--brands", type=int, default=500, help="size of the large synthetic catalogue")
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {sorted(os.sched_getaffinity(0))[0]})  # one core

    brands_file = ROOT / "tests" / "data" / "router_brands.txt"
    print(f"负载（1/5/15 分钟）：{' '.join(f'{x:.2f}' for x in os.getloadavg())}，CPU 数：{os.cpu_count()}")
    from nlp import model

    model.get_model()  # the parameters exist before we time start-up (make install builds them)
    with tempfile.TemporaryDirectory() as cache:
        cold = startup(cache, brands_file)
        warm = min((startup(cache, brands_file) for _ in range(3)), key=lambda r: sum(r[0]))
    print(
        "启动（独立进程，秒；墙钟 / CPU）：  导入          jieba+OpenCC      分类器参数      "
        "建Router        首条消息"
    )
    for label, (wall, cpu, _rss, _) in (("无 jieba 缓存（首次）", cold), ("有 jieba 缓存", warm)):
        cells = "".join(f"{w:8.3f} /{c:6.3f}" for w, c in zip(wall, cpu, strict=True))
        print(f"  {label:18s}{cells}  合计 {sum(wall):.2f} s")
    rss = warm[2]
    print(
        f"常驻内存（MB）：解释器 {rss[0]:.1f}，导入后 {rss[1]:.1f}，jieba+OpenCC 后 {rss[2]:.1f}，"
        f"分类器参数后 {rss[3]:.1f}（分类器增加 {rss[3] - rss[2]:.1f} MB），"
        f"建 Router、首条消息后 {rss[5]:.1f}；"
        f"路由共 {rss[5] - rss[0]:.1f} MB。加载了 sklearn/scipy：{'是' if warm[3] else '否'}"
    )

    from nlp import BrandEntry, Router
    from nlp.examples import read_brands, read_examples

    Router.warm_up()
    examples = []
    corpus = ROOT / "config" / "router" / "corpus"
    for path in (
        corpus / "tuned_eval.txt",
        corpus / "tuned_holdout.txt",
        ROOT / "tests/data/heldout/heldout_c.txt",
    ):
        examples += read_examples(path)[0]
    messages = [ex.message for ex in examples]

    demo = read_brands(brands_file)
    large = demo + [BrandEntry(n, a) for n, a in synthetic_brands(args.brands)]
    t = time.perf_counter()
    large_router = Router(large)
    build_large = time.perf_counter() - t
    print(f"\n为 {len(large)} 个品牌建 Router：{build_large * 1000:.1f} ms（品牌目录变化时重建）")

    print(f"\n单核路由（{len(messages)} 条评测消息 × {args.rounds} 轮）：")
    print("  目录          条/秒(墙钟) 条/秒(CPU)  p50 ms  p99 ms  最大ms | CPU p50  CPU p99  CPU最大")
    for label, router in ((f"{len(demo)} 个品牌", Router(demo)), (f"{len(large)} 个品牌", large_router)):
        r = measure(router, messages, args.rounds)
        print(
            f"  {label:10s} {r['per_s']:10.0f} {r['per_cpu_s']:10.0f} {r['p50']:7.3f} {r['p99']:7.3f}"
            f" {r['max']:7.3f} | {r['cpu_p50']:7.3f} {r['cpu_p99']:8.3f} {r['cpu_max']:8.3f}"
        )


if __name__ == "__main__":
    main()
