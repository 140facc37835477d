"""The dependency rule of DESIGN.md, checked on the source tree with an AST walk.

- Core (everything in ``forum`` outside the domain packages: settings, db, jobs, mail,
  search, text, web, accounts, projects and the top-level modules) imports no domain.
- ``forum.topics`` imports only core. The other domains may import ``topics`` and core,
  never each other: peers talk through events.
- ``forum`` never imports ``plugins``; plugins never import each other.
- A plugin imports from ``forum`` only ``hookspecs``, ``events``, a domain's ``service``
  (or ``services``), ``schemas`` and ``permissions`` (the ``access_*`` verbs), and the few
  modules that are the platform's API for plugins (``PLUGIN_API`` below: the job context,
  page rendering, errors, the API route helper, CLI helpers, the ``Platform`` type,
  per-project plugin settings).

Every import counts, including those inside functions and under ``TYPE_CHECKING``.
Generated migrations are exempt (the core's migrations import enums of every domain).
Packages that do not exist yet need nothing: the rule applies as soon as they appear.
``pyproject.toml`` says the part of this that import-linter can (``make lint``).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

DOMAINS = ("topics", "notifications", "reputation", "moderation", "support_queue", "billing")
FOUNDATION_DOMAIN = "topics"  # the one domain the others may import
PLUGIN_ALLOWED = ("forum.hookspecs", "forum.events")
# forum.<domain>.<leaf>[.x]; permissions holds the access_* verbs (access_project ...)
PLUGIN_ALLOWED_LEAVES = ("service", "services", "schemas", "permissions")
PLUGIN_API = (
    "forum.jobs",  # the package itself: JobContext (not forum.jobs.models or .embedded)
    "forum.web.templating",
    "forum.web.errors",
    "forum.web.outbound",  # requests to addresses a project chose
    "forum.text.plain",  # HTML as plain text (excerpts of imported pages)
    "forum.web.api",
    "forum.cli",
    "forum.platform",
    "forum.projects.plugin_settings",  # a plugin's per-project settings (a verb module)
)


@dataclass(frozen=True, order=True)
class Violation:
    path: str
    line: int
    importer: str
    imported: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.importer} imports {self.imported} ({self.reason})"


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def is_module(root: Path, dotted: str) -> bool:
    base = root.joinpath(*dotted.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def imported_names(root: Path, path: Path, importer: str) -> list[tuple[int, str]]:
    """Every module ``path`` imports, as (line, dotted name); relative imports resolved."""
    tree = ast.parse(path.read_text(), filename=str(path))
    package = importer if path.name == "__init__.py" else importer.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base_parts = package.split(".")
                base_parts = base_parts[: len(base_parts) - (node.level - 1)]
                base = ".".join([*base_parts, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                # ``from forum import events`` imports the module forum.events; ``from
                # forum.hookspecs import hookimpl`` imports forum.hookspecs. A name that is
                # no module here but is named like a package counts as that package, so
                # importing a domain that does not exist yet is still seen.
                top = candidate.split(".")
                named_domain = len(top) == 2 and top[0] == "forum" and top[1] in DOMAINS
                if is_module(root, candidate) or named_domain:
                    found.append((node.lineno, candidate))
                else:
                    found.append((node.lineno, base))
    return found


def within(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def domain_of(name: str) -> str | None:
    parts = name.split(".")
    if len(parts) >= 2 and parts[0] == "forum" and parts[1] in DOMAINS:
        return parts[1]
    return None


def plugin_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if len(parts) >= 2 and parts[0] == "plugins" else None


def plugin_may_import(name: str) -> bool:
    if any(name == allowed or within(name, allowed) for allowed in PLUGIN_ALLOWED):
        return True
    if name in PLUGIN_API:
        return True
    parts = name.split(".")
    return len(parts) >= 3 and parts[0] == "forum" and parts[2] in PLUGIN_ALLOWED_LEAVES


def judge(importer: str, imported: str) -> str | None:
    """Why ``importer`` may not import ``imported``, or None when it may."""
    if within(importer, "forum"):
        if within(imported, "plugins"):
            return "forum never imports plugins"
        target = domain_of(imported)
        if target is None:
            return None
        source = domain_of(importer)
        if source is None:
            return "core imports no domain package"
        if source == target:
            return None
        if source == FOUNDATION_DOMAIN:
            return "topics imports only core"
        if target == FOUNDATION_DOMAIN:
            return None
        return "domain peers talk through events, not imports"
    source_plugin = plugin_of(importer)
    if source_plugin is not None:
        if within(imported, "plugins"):
            target_plugin = plugin_of(imported)
            if target_plugin in (None, source_plugin):
                return None
            return "plugins never import each other"
        if within(imported, "forum") and not plugin_may_import(imported):
            return "plugins import only forum.hookspecs, forum.events, services and schemas"
    return None


def check_tree(root: Path) -> list[Violation]:
    """Every import under ``root``/forum and ``root``/plugins that breaks the rule."""
    violations: list[Violation] = []
    for top in ("forum", "plugins"):
        for path in sorted((root / top).rglob("*.py")):
            if "migrations" in path.relative_to(root).parts:
                continue
            importer = module_name(root, path)
            for line, imported in imported_names(root, path, importer):
                reason = judge(importer, imported)
                if reason is not None:
                    violations.append(Violation(str(path.relative_to(root)), line,
                                                importer, imported, reason))
    return sorted(violations)


def test_source_tree_follows_the_dependency_rule() -> None:
    violations = check_tree(ROOT)
    assert not violations, "\n".join(str(v) for v in violations)


def test_the_check_sees_the_real_tree() -> None:
    # Guards against a check that passes because it walks nothing.
    names = {module_name(ROOT, p) for p in (ROOT / "forum").rglob("*.py")}
    assert {"forum.app", "forum.web.templating", "forum.hookspecs"} <= names
    imports = {name for _, name in imported_names(
        ROOT, ROOT / "forum" / "platform.py", "forum.platform")}
    assert "forum.events" in imports
    assert "forum.projects.service" in imports  # imported inside a method


# The checker itself, on fake trees that break the rule.


def write_tree(root: Path, files: dict[str, str]) -> Path:
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        for parent in path.relative_to(root).parents:
            if str(parent) != ".":
                init = root / parent / "__init__.py"
                if not init.exists():
                    init.write_text("")
        path.write_text(source)
    return root


def reasons(violations: list[Violation]) -> set[tuple[str, str, str]]:
    return {(v.importer, v.imported, v.reason) for v in violations}


def test_core_importing_a_domain_is_reported(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "forum/web/pages.py": "from forum.topics.models import Topic\n",
        "forum/accounts/service.py": "def f():\n    import forum.billing.service\n",
        "forum/cli.py": "from forum import reputation\n",
        "forum/topics/models.py": "Topic = object\n",
    })
    assert reasons(check_tree(tmp_path)) == {
        ("forum.web.pages", "forum.topics.models", "core imports no domain package"),
        ("forum.accounts.service", "forum.billing.service", "core imports no domain package"),
        ("forum.cli", "forum.reputation", "core imports no domain package"),
    }


def test_type_checking_and_relative_imports_count(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "forum/projects/service.py": (
            "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n"
            "    from forum.support_queue.models import Ticket\n"
        ),
        "forum/web/api.py": "from ..topics import models\n",
        "forum/topics/models.py": "",
    })
    found = check_tree(tmp_path)
    assert reasons(found) == {
        ("forum.projects.service", "forum.support_queue.models",
         "core imports no domain package"),
        ("forum.web.api", "forum.topics.models", "core imports no domain package"),
    }
    assert [v.line for v in found if v.importer == "forum.projects.service"] == [3]


def test_domain_rules(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "forum/topics/service.py": (
            "from forum.accounts.models import User\n"  # core: fine
            "from forum.notifications.service import notify\n"  # topics -> domain: no
        ),
        "forum/billing/service.py": (
            "from forum.topics.models import Topic\n"  # a domain -> topics: fine
            "from forum.billing.models import Payment\n"  # own package: fine
            "from forum.reputation.service import credit\n"  # peer: no
        ),
        "forum/support_queue/jobs.py": "import forum.moderation\n",  # peer: no
    })
    assert reasons(check_tree(tmp_path)) == {
        ("forum.topics.service", "forum.notifications.service", "topics imports only core"),
        ("forum.billing.service", "forum.reputation.service",
         "domain peers talk through events, not imports"),
        ("forum.support_queue.jobs", "forum.moderation",
         "domain peers talk through events, not imports"),
    }


def test_plugin_rules(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "forum/plugins.py": "import plugins.github_import.plugin\n",
        "forum/accounts/service.py": "", "forum/accounts/models.py": "",
        "forum/projects/schemas.py": "", "forum/projects/permissions.py": "",
        "forum/jobs/__init__.py": "",
        "forum/jobs/models.py": "", "forum/events.py": "", "forum/hookspecs.py": "",
        "plugins/github_import/plugin.py": (
            "from forum.hookspecs import hookimpl\n"
            "from forum import events\n"
            "from forum.accounts.service import access_user\n"
            "from forum.projects.schemas import ProjectOut\n"
            "from forum.projects.permissions import access_project\n"
            "from forum.jobs import JobContext\n"
            "from plugins.github_import.client import GitHub\n"  # own package: fine
            "from forum.accounts.models import User\n"  # models: no
            "from forum.jobs.models import Job\n"  # runner internals: no
            "from forum.db import init_db\n"  # no
            "from plugins.twitter_bridge import poll\n"  # another plugin: no
        ),
        "plugins/github_import/client.py": "GitHub = object\n",
        "plugins/twitter_bridge/__init__.py": "poll = None\n",
    })
    rule = "plugins import only forum.hookspecs, forum.events, services and schemas"
    assert reasons(check_tree(tmp_path)) == {
        ("forum.plugins", "plugins.github_import.plugin", "forum never imports plugins"),
        ("plugins.github_import.plugin", "forum.accounts.models", rule),
        ("plugins.github_import.plugin", "forum.jobs.models", rule),
        ("plugins.github_import.plugin", "forum.db", rule),
        ("plugins.github_import.plugin", "plugins.twitter_bridge",
         "plugins never import each other"),
    }


def test_migrations_are_exempt(tmp_path: Path) -> None:
    write_tree(tmp_path, {
        "forum/migrations/0001_initial.py": "from forum.topics.models import TopicKind\n",
        "plugins/x/migrations/0001_initial.py": "from forum.projects.models import Role\n",
    })
    assert check_tree(tmp_path) == []


def test_import_linter_contracts_hold() -> None:
    """The import-linter half of the rule (``make lint`` runs it too)."""
    lint_imports = Path(sys.executable).parent / "lint-imports"
    if not lint_imports.exists():
        pytest.fail(f"{lint_imports} is missing: install the test extras")
    result = subprocess.run([str(lint_imports), "--no-cache"], cwd=ROOT, capture_output=True,
                            text=True, timeout=120, check=False)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "0 broken" in result.stdout
