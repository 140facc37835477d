"""Print the endpoint table of docs/api.md from the app's OpenAPI document (developers).

Run from the checkout: PYTHONPATH=. .venv/bin/python scripts/api_doc.py [--write]
(``--write`` replaces the table in docs/api.md). tests/test_docs.py fails when
docs/api.md misses an endpoint.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from forum.app import create_app
from forum.platform import build_platform
from forum.plugins import PluginManager
from forum.settings import Settings
from forum.web.api import openapi_document


def endpoint_rows() -> list[tuple[str, str]]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(data_dir=Path(tmp), secret_key="docs")  # type: ignore[arg-type]
        app = create_app(settings, platform=build_platform(settings, PluginManager(
            load_entry_points=False)))
        document = openapi_document(app.routes, "Forum")
    return [(f"{method.upper()} {path}", operation["summary"])
            for path, operations in document["paths"].items()
            for method, operation in operations.items()]


def write_table(doc: Path) -> None:
    """Replace the rows of the endpoint table (the lines after its header) in ``doc``."""
    lines = doc.read_text().splitlines()
    start = lines.index("| --- | --- |") + 1
    end = start
    while end < len(lines) and lines[end].startswith("| `"):
        end += 1
    rows = [f"| `{endpoint}` | {summary} |" for endpoint, summary in endpoint_rows()]
    doc.write_text("\n".join(lines[:start] + rows + lines[end:]) + "\n")


if __name__ == "__main__":
    import sys

    if "--write" in sys.argv:
        write_table(Path(__file__).resolve().parent.parent / "docs" / "api.md")
    else:
        for endpoint, summary in endpoint_rows():
            print(f"| `{endpoint}` | {summary} |")
