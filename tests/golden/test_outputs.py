"""Golden snapshots: what the CLI and the dashboard's exports produce on the demo data, byte for byte.

The demo is built as ``make run`` builds it (``seed-demo``, ``admin seed-demo``, ``voice-demo``,
``recognition-demo`` through the Flask CLI), in a database of its own (a fresh SQLite file, or a
private schema on PostgreSQL: ids start at 1 on both), with the clock frozen at ``FROZEN``. Then
every read-only CLI report and export, and every dashboard list page's ``?format=csv`` and
``?format=xlsx``, is captured and compared with its file in ``snapshots/``:

- ``*.txt``: a command's standard output, or a text download, exactly;
- ``*.csv``: the exported bytes exactly (BOM and CRLF included: the snapshots are ``-text`` in
  .gitattributes, so git never rewrites their line ends);
- ``*.xlsx.jsonl``: a workbook's content, not its zip bytes (which carry a creation time): per
  sheet one line with the title, frozen panes and column widths, then one line per row of
  ``[value, openpyxl data type]`` pairs.

Randomness is removed at its source, not masked: ``voice-demo``'s respondent codes come from
``secrets.token_hex``, which this test replaces with a seeded generator while that command runs;
the recognition demo is seeded by itself. The one normalisation: the temporary directory that
``export -o`` writes to is shown as ``<tmp>`` in the commands' messages. The demo accounts'
passwords are random and only read from ``admin seed-demo``'s output to log in (that output is
not a snapshot). Left out: commands that write (``campaign close``, ``recognition scan`` …), those
that need Redis (``jobs failed``) and the HTML pages.

A snapshot is the behaviour to keep. When an output is meant to change, regenerate them with
``GHPP_UPDATE_GOLDEN=1 .venv/bin/python -m pytest tests/golden`` and commit the new files together
with the change, with the fix or feature named in the commit message; never regenerate them to
make a refactor pass.
"""

from __future__ import annotations

import dataclasses
import difflib
import io
import json
import os
import random
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest
import time_machine
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from bot.jobs import InlineQueue
from bot.store import MemoryStore
from config.settings import Settings
from models.db import make_engine
from tests.bot.admin.conftest import login
from tests.conftest import DATABASE_URL

FROZEN = datetime(2026, 6, 15, 10, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
SNAPSHOTS = Path(__file__).parent / "snapshots"
UPDATE = os.environ.get("GHPP_UPDATE_GOLDEN") == "1"

# The demo's names (config/demo/demo.yaml and the recognition demo), spelt out here so that this
# test does not follow the code it guards when modules move.
DEMO_BRANDS = (
    "查保促",
    "爱心妈妈小屋",
    "四季服务",
    "齐鲁工匠",
    "化工安全查保促专项行动",
    "幸福驿站",
    "职工大讲堂",
    "工惠乐学",
    "1138工程",
    "潍坊志工",
    "第一主席",
    "职工书屋",
)
DEMO_CAMPAIGNS = {
    "rating": "2026年度工作品牌满意度测评",
    "city_rating": "2026年度市级工作品牌满意度测评",
    "vote": "2026年度最受欢迎工作品牌评选",
}
SURVEYS = ("brand_recognition",)
# The scoped account's exports: the same pages as a county admin (滨城区总工会) sees them.
SCOPED_PAGES = {
    "unions": "/admin/unions/",
    "brands": "/admin/brands/",
    "programme_coverage": "/admin/programme/coverage",
    "suggestions": "/admin/suggestions/",
    "survey_brand_recognition": "/admin/surveys/brand_recognition",
}
PASSWORD_LINE = re.compile(r"^\s+(\S+)\s+密码 (\S+)\s", re.MULTILINE)


# --- a database and an app of their own -------------------------------------------------------


@pytest.fixture
def golden_engine(tmp_path: Path) -> Iterator[Engine]:
    """An empty database for this test alone: autoincrement ids start at 1 whatever ran before."""
    if not (DATABASE_URL or "").startswith("postgresql"):
        engine = make_engine(f"sqlite:///{tmp_path / 'golden.sqlite3'}")
        yield engine
        engine.dispose()
        return
    assert DATABASE_URL is not None
    schema = f"golden_{uuid.uuid4().hex[:12]}"
    admin = make_engine(DATABASE_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(DATABASE_URL, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture
def demo_app(settings: Settings, golden_engine: Engine) -> Flask:
    """The demo's app (demo mode on, as ``flask --app bot.devenv:demo_app``) on that database."""
    from bot import create_app

    holder: dict[str, Any] = {}
    queue = InlineQueue(lambda: holder["rt"], synchronous=True, retry_delays_s=(0, 0, 0))
    # As `make run`: demo mode, no Redis (jobs run in the process).
    demo_settings = dataclasses.replace(
        settings, redis_url=None, extra={**settings.extra, "GHPP_SIMULATE_WECHAT": "1"}
    )
    app = create_app(demo_settings, engine=golden_engine, store=MemoryStore(), queue=queue)
    holder["rt"] = app.extensions["ghpp"]
    app.config["TESTING"] = True
    return app


# --- capturing ---------------------------------------------------------------------------------


class Outputs(dict[str, bytes]):
    def add_text(self, name: str, value: str) -> None:
        self._put(f"{name}.txt", value.encode("utf-8"))

    def add_csv(self, name: str, value: bytes) -> None:
        self._put(f"{name}.csv", value)

    def add_xlsx(self, name: str, value: bytes) -> None:
        self._put(f"{name}.xlsx.jsonl", workbook_lines(value).encode("utf-8"))

    def _put(self, filename: str, value: bytes) -> None:
        assert filename not in self, f"two outputs named {filename}"
        self[filename] = value


def _json_value(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def workbook_lines(data: bytes) -> str:
    workbook = openpyxl.load_workbook(io.BytesIO(data))
    lines = []
    for sheet in workbook.worksheets:
        widths = {key: dim.width for key, dim in sorted(sheet.column_dimensions.items())}
        head = {"sheet": sheet.title, "freeze_panes": sheet.freeze_panes, "widths": widths}
        lines.append(json.dumps(head, ensure_ascii=False))
        for row in sheet.iter_rows():
            lines.append(json.dumps([[_json_value(c.value), c.data_type] for c in row], ensure_ascii=False))
    return "\n".join(lines) + "\n"


def _cli(app: Flask) -> Callable[..., str]:
    runner = app.test_cli_runner()

    def run(*args: str) -> str:
        result = runner.invoke(args=list(args), catch_exceptions=False)
        assert result.exit_code == 0, f"{' '.join(args)}: {result.output}"
        return result.stdout

    return run


def _seeded_token_hex() -> Callable[[int | None], str]:
    rng = random.Random(2026)

    def token_hex(nbytes: int | None = None) -> str:
        return rng.randbytes(32 if nbytes is None else nbytes).hex()

    return token_hex


def build_demo(app: Flask, monkeypatch: pytest.MonkeyPatch) -> tuple[Outputs, dict[str, str]]:
    """``make run``'s four demo commands; their outputs and the demo accounts' passwords."""
    cli = _cli(app)
    out = Outputs()
    out.add_text("cli_seed_demo", cli("seed-demo"))
    passwords = dict(PASSWORD_LINE.findall(cli("admin", "seed-demo")))
    assert set(passwords) == {"admin", "binzhou", "bincheng"}, passwords
    with monkeypatch.context() as m:
        m.setattr(secrets, "token_hex", _seeded_token_hex())
        out.add_text("cli_voice_demo", cli("voice-demo"))
    out.add_text("cli_recognition_demo", cli("recognition-demo"))
    return out, passwords


def capture_cli(app: Flask, out: Outputs, tmp: Path) -> None:
    cli = _cli(app)

    def quiet(*args: str) -> str:  # a message naming the file written: the folder as <tmp>
        return cli(*args).replace(str(tmp), "<tmp>")

    for fmt in ("table", "csv", "json"):
        out.add_text(f"cli_report_coverage_{fmt}", cli("report", "coverage", "--format", fmt))
    out.add_text("cli_report_coverage_org_BZ-BC", cli("report", "coverage", "--org", "BZ-BC"))
    for i, brand in enumerate(DEMO_BRANDS, start=1):
        out.add_text(f"cli_brand_show_{i:02d}", cli("brand", "show", brand))
    out.add_text("cli_campaign_list", cli("campaign", "list"))
    out.add_text("cli_recognition_latest", cli("recognition"))
    for key, name in DEMO_CAMPAIGNS.items():
        for fmt in ("table", "csv", "json"):
            out.add_text(
                f"cli_recognition_{key}_{fmt}", cli("recognition", "--campaign", name, "--format", fmt)
            )
        out.add_text(f"cli_recognition_checks_{key}", cli("recognition", "checks", name))
    out.add_text("cli_survey_results_default", cli("survey", "results"))
    for key in SURVEYS:
        out.add_text(f"cli_survey_results_{key}", cli("survey", "results", key))

    exports: list[tuple[str, list[str]]] = [
        ("suggestions", ["suggestions"]),
        ("suggestions_union_BZ-BC", ["suggestions", "--union", "BZ-BC"]),
        *((f"survey_{key}", ["surveys", "--survey", key]) for key in SURVEYS),
    ]
    for name, args in exports:
        for fmt in ("csv", "xlsx"):
            path = tmp / f"{name}.{fmt}"
            message = quiet("export", *args, "--format", fmt, "-o", str(path))
            out.add_text(f"cli_export_{name}_{fmt}_message", message)
            (out.add_csv if fmt == "csv" else out.add_xlsx)(f"cli_export_{name}", path.read_bytes())

    inbound = tmp / "inbound.txt"
    out.add_text("cli_inbound_export_message", quiet("inbound", "export", "-o", str(inbound)))
    out.add_text("cli_inbound_export", inbound.read_text(encoding="utf-8"))
    out.add_text("cli_inbound_export_brands", (tmp / "inbound.txt.brands.txt").read_text(encoding="utf-8"))
    labels = tmp / "labels.txt"
    out.add_text("cli_inbound_labels_export_message", quiet("inbound", "labels-export", "-o", str(labels)))
    out.add_text("cli_inbound_labels_export", labels.read_text(encoding="utf-8"))

    out.add_text("cli_admin_tokens", cli("admin", "tokens"))
    out.add_text("cli_jobs_status", cli("jobs", "status"))
    out.add_text("cli_retention_purge_dry_run", cli("retention", "purge", "--dry-run"))
    out.add_text("cli_audit_verify", cli("audit", "verify"))


def capture_dashboard(app: Flask, out: Outputs, passwords: dict[str, str]) -> None:
    campaign_ids = _campaign_ids(app)
    admin = _logged_in(app, "admin", passwords["admin"])
    pages = {
        "brands": "/admin/brands/",
        "unions": "/admin/unions/",
        "programme_coverage": "/admin/programme/coverage",
        "programme_invitations": "/admin/programme/invitations",
        **{
            f"campaign_{key}": f"/admin/campaigns/{campaign_ids[name]}"
            for key, name in DEMO_CAMPAIGNS.items()
        },
        "suggestions": "/admin/suggestions/",
        **{f"survey_{key}": f"/admin/surveys/{key}" for key in SURVEYS},
        "audit": "/admin/audit/",
    }
    headers: list[str] = []
    for name, path in pages.items():
        for fmt in ("csv", "xlsx"):
            body = _download(admin, f"{path}?format={fmt}", headers)
            (out.add_csv if fmt == "csv" else out.add_xlsx)(f"dashboard_{name}", body)
    labels = _download(admin, "/admin/learning/labels.txt", headers)
    out.add_text("dashboard_learning_labels", labels.decode("utf-8"))

    county = _logged_in(app, "bincheng", passwords["bincheng"])
    for name, path in SCOPED_PAGES.items():
        out.add_csv(f"dashboard_bincheng_{name}", _download(county, f"{path}?format=csv", headers))
    out.add_text("dashboard_export_headers", "\n".join(headers) + "\n")


def _campaign_ids(app: Flask) -> dict[str, int]:
    with app.extensions["ghpp"].engine.connect() as conn:
        return {name: cid for cid, name in conn.execute(text("SELECT id, name FROM campaign"))}


def _logged_in(app: Flask, username: str, password: str) -> FlaskClient:
    client = app.test_client()
    response = login(client, username, password)
    assert response.status_code == 302, response.get_data(as_text=True)
    return client


def _download(client: FlaskClient, path: str, headers: list[str]) -> bytes:
    response = client.get(path)
    assert response.status_code == 200, f"{path}: {response.status_code}"
    disposition = response.headers.get("Content-Disposition", "")
    headers.append(f"{path} | {response.status_code} | {response.content_type} | {disposition}")
    return response.get_data()


# --- comparing ---------------------------------------------------------------------------------


def _diff(name: str, expected: bytes, actual: bytes) -> str:
    lines = difflib.unified_diff(
        expected.decode("utf-8", "replace").splitlines(keepends=True),
        actual.decode("utf-8", "replace").splitlines(keepends=True),
        f"snapshots/{name}",
        "now",
    )
    text_diff = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    if not text_diff:  # same text, other bytes: line ends or the BOM
        text_diff = f"same text, different bytes: {expected[:40]!r}… vs {actual[:40]!r}…\n"
    return text_diff


def test_outputs_match_the_golden_snapshots(
    demo_app: Flask, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with time_machine.travel(FROZEN, tick=False):
        out, passwords = build_demo(demo_app, monkeypatch)
        capture_cli(demo_app, out, tmp_path)
        capture_dashboard(demo_app, out, passwords)

    stored = {p.name for p in SNAPSHOTS.iterdir()} if SNAPSHOTS.is_dir() else set()
    if UPDATE:
        SNAPSHOTS.mkdir(exist_ok=True)
        for name in stored - set(out):
            (SNAPSHOTS / name).unlink()
        for name, body in out.items():
            (SNAPSHOTS / name).write_bytes(body)
        return
    problems = [f"snapshot without output (stale): {name}" for name in sorted(stored - set(out))]
    problems += [f"output without snapshot (new): {name}" for name in sorted(set(out) - stored)]
    for name in sorted(set(out) & stored):
        expected = (SNAPSHOTS / name).read_bytes()
        if expected != out[name]:
            problems.append(_diff(name, expected, out[name]))
    if problems:
        pytest.fail(
            f"{len(problems)} output(s) differ from tests/golden/snapshots "
            "(GHPP_UPDATE_GOLDEN=1 rewrites them, only for a change meant to alter them):\n\n"
            + "\n".join(problems),
            pytrace=False,
        )
