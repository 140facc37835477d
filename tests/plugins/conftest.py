"""Fixtures for plugin tests: installing a real distribution with ``forum.plugins`` entry points.

``install_distribution`` writes a ``*.dist-info`` folder (METADATA and entry_points.txt)
and optional modules into a temporary directory and puts it on ``sys.path``, so
``importlib.metadata.entry_points`` finds it exactly as it finds a pip-installed plugin.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from forum.plugins import ENTRY_POINT_GROUP

InstallDistribution = Callable[..., Path]


@pytest.fixture
def install_distribution(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[InstallDistribution]:
    site = tmp_path / "site-packages"
    site.mkdir()
    written: list[str] = []

    def install(name: str, entry_points: dict[str, str],
                modules: dict[str, str] | None = None) -> Path:
        dist = site / f"{name}-1.0.dist-info"
        dist.mkdir()
        (dist / "METADATA").write_text(
            f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
        lines = [f"[{ENTRY_POINT_GROUP}]"]
        lines += [f"{ep_name} = {target}" for ep_name, target in entry_points.items()]
        (dist / "entry_points.txt").write_text("\n".join(lines) + "\n")
        for module, source in (modules or {}).items():
            (site / f"{module}.py").write_text(source)
            written.append(module)
        if str(site) not in sys.path:
            monkeypatch.syspath_prepend(str(site))
        importlib.invalidate_caches()  # new files in a directory already on the path
        return dist

    yield install
    for module in written:
        sys.modules.pop(module, None)
