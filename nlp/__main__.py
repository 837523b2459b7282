"""Operator commands: ``python -m nlp route --brands BRANDS.txt < in.txt > out.jsonl``, ``… eval FILE``."""

from __future__ import annotations

import sys

from nlp.cli import main

if __name__ == "__main__":
    sys.exit(main())
