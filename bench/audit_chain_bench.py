"""Cost of the audit log's hash chain (run by hand: python bench/audit_chain_bench.py [N]).

Uses DATABASE_URL if set (PostgreSQL: a scratch database, its schema is rebuilt), else a
temporary SQLite file. Times N single-entry transactions through ``record()`` (lock, read the
previous hash, hash, insert, commit), the same with 4 threads at once, and ``verify``.
"""

from __future__ import annotations

import os
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text

from bot.admin.audit_log import record
from models.admin import verify_audit_chain
from models.db import make_engine, make_session_factory
from models.migrate import upgrade


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/audit.sqlite3"
    engine = make_engine(url)
    with engine.begin() as conn:
        if engine.dialect.name == "postgresql":
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    upgrade(engine)
    factory = make_session_factory(engine)

    def write(count: int, tag: str) -> None:
        for i in range(count):
            with factory() as s, s.begin():
                record(s, "bench.write", "thing", f"{tag}{i}", {"n": i}, {"n": i + 1}, actor_name=tag)

    started = time.perf_counter()
    write(n, "a")
    serial = time.perf_counter() - started

    threads = [threading.Thread(target=write, args=(n // 4, f"t{k}")) for k in range(4)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    parallel = time.perf_counter() - started

    started = time.perf_counter()
    with factory() as s:
        report = verify_audit_chain(s)
    verify = time.perf_counter() - started
    assert report.first_break is None, report
    print(f"{engine.dialect.name}: {n} entries one by one {serial / n * 1000:.2f} ms each;")
    print(f"  4 threads × {n // 4}: {parallel / n * 1000:.2f} ms per entry (wall clock);")
    print(f"  verify {report.checked} entries: {verify:.2f} s ({report.checked / verify:.0f}/s)")
    engine.dispose()


if __name__ == "__main__":
    main()
