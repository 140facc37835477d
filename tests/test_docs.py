"""The docs name what exists: every API endpoint is in docs/api.md."""

from __future__ import annotations

from pathlib import Path

from scripts.api_doc import endpoint_rows

DOCS = Path(__file__).parent.parent / "docs"


def test_every_api_endpoint_is_documented() -> None:
    text = (DOCS / "api.md").read_text()
    missing = [endpoint for endpoint, _ in endpoint_rows() if f"`{endpoint}`" not in text]
    assert missing == [], "regenerate the table: PYTHONPATH=. python scripts/api_doc.py"


def test_docs_name_no_endpoint_that_does_not_exist() -> None:
    import re

    listed = set(re.findall(r"^\| `((?:GET|POST|PUT|PATCH|DELETE) /api/v1/[^`]*)`",
                            (DOCS / "api.md").read_text(), re.M))
    assert listed - {endpoint for endpoint, _ in endpoint_rows()} == set()
