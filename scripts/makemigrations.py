"""Write migrations for the core and for the test suite's sample plugin (developers).

`forum makemigrations` sees only installed plugins; the sample plugin lives in tests/.
Run from the checkout: PYTHONPATH=. .venv/bin/python scripts/makemigrations.py [NAME]
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
from pathlib import Path

from forum.db import make_migrations
from tests.conftest import base_settings, make_plugins


def main() -> None:
    name = sys.argv[1] if len(sys.argv) > 1 else None
    with tempfile.TemporaryDirectory() as tmp:
        settings = base_settings(Path(tmp), f"sqlite://{tmp}/x.sqlite3")
        created = asyncio.run(make_migrations(settings, make_plugins(), write=True, name=name))
    print("\n".join(f"created {label}" for label in created) or "no changes")


if __name__ == "__main__":
    main()
