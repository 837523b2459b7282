"""``python -m nlp route --brands BRANDS.txt < messages.txt > routes.jsonl`` and ``python -m nlp eval FILE``."""

from __future__ import annotations

import sys

from nlp.cli import main

if __name__ == "__main__":
    sys.exit(main())
