"""Importing the application does no work: no password hashing, no model training at import."""

from __future__ import annotations

import subprocess
import sys

CHECK = """
import werkzeug.security as ws
calls = []
real = ws.generate_password_hash
def counting(*a, **k):
    calls.append(1)
    return real(*a, **k)
ws.generate_password_hash = counting
import bot.admin.security, bot.admin, bot  # noqa: E401
print(len(calls))
"""


def test_importing_the_dashboard_hashes_nothing() -> None:
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "0"
