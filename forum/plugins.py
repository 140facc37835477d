"""The plugin manager: core domains, entry-point plugins and test plugins behind one pluggy.

Built by ``create_app`` / the worker, never at import time. Core domains are registered
as plugins too, so they use the same hooks as third-party code; they cannot be switched
off per project. Entry-point plugins (group ``forum.plugins``) can be, through
``projects.service`` which keeps the enabled set in the database.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from importlib import import_module
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

import pluggy

from forum import hookspecs
from forum.events import Event

log = logging.getLogger(__name__)

ENTRY_POINT_GROUP = "forum.plugins"

# The core's own domains, registered through the same hooks a plugin uses.
CORE_PLUGINS = (
    "forum.web.plugin",
    "forum.jobs.plugin",
    "forum.mail.plugin",
    "forum.mail.inbound_plugin",
    "forum.accounts.plugin",
    "forum.projects.plugin",
    "forum.topics.plugin",
    "forum.topics.pages_plugin",
    "forum.topics.search_plugin",
    "forum.topics.mail_plugin",
    "forum.notifications.plugin",
    "forum.support_queue.plugin",
    "forum.support_queue.team_plugin",
    "forum.support_queue.sla_plugin",
    "forum.support_queue.queue_plugin",
    "forum.support_queue.mail_plugin",
    "forum.support_queue.billing_plugin",
    "forum.support_queue.dashboard_plugin",
    "forum.moderation.penalties_plugin",
    "forum.moderation.plugin",
    "forum.reputation.plugin",
    "forum.reputation.badges_plugin",
    "forum.reputation.recognition_plugin",
    "forum.reputation.dashboard_plugin",
    "forum.billing.plugin",
    "forum.billing.checkout_plugin",
    "forum.billing.panels_plugin",
    "forum.billing.helped_plugin",
)


class PluginManager:
    def __init__(
        self,
        *,
        extra: Iterable[ModuleType | object] = (),
        load_entry_points: bool = True,
        disabled: Iterable[str] = (),
    ) -> None:
        self.pm = pluggy.PluginManager(hookspecs.PROJECT_NAME)
        self.pm.add_hookspecs(hookspecs)
        self.core: set[str] = set()
        self.optional: dict[str, object] = {}
        for dotted in CORE_PLUGINS:
            self.pm.register(import_module(dotted), name=dotted)
            self.core.add(dotted)
        skip = {name.strip() for name in disabled if name.strip()}
        if load_entry_points:
            for ep in entry_points(group=ENTRY_POINT_GROUP):
                if ep.name in skip:
                    continue
                self._register_optional(ep.name, ep.load())
        for plugin in extra:
            name = getattr(plugin, "PLUGIN_NAME", None) or getattr(plugin, "__name__", None)
            self._register_optional(str(name), plugin)
        # Refuse implementations of hooks that are not in the contract.
        self.pm.check_pending()

    def _register_optional(self, name: str, plugin: object) -> None:
        self.pm.register(plugin, name=name)
        self.optional[name] = plugin

    @property
    def hook(self) -> Any:
        return self.pm.hook

    def names(self) -> list[str]:
        """Names of the plugins a project can switch on or off."""
        return sorted(self.optional)

    def collect(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a registration hook and flatten the lists its implementations return."""
        results: list[Any] = []
        for result in getattr(self.pm.hook, hook_name)(**kwargs):
            if result is None:
                continue
            if isinstance(result, list):
                results.extend(result)
            else:
                results.append(result)
        return results

    def collect_async_results(self, hook_name: str, **kwargs: Any) -> list[Any]:
        """Call a hook whose implementations are coroutine functions; return the awaitables."""
        return [r for r in getattr(self.pm.hook, hook_name)(**kwargs) if r is not None]

    def collect_by_plugin(self, hook_name: str) -> dict[str, Any]:
        """A registration hook's result per plugin name (for per-plugin settings)."""
        found: dict[str, Any] = {}
        for impl in getattr(self.pm.hook, hook_name).get_hookimpls():
            result = impl.function()
            if result is not None:
                found[impl.plugin_name] = result
        return found

    async def dispatch(self, event: Event, enabled: set[str] | None, platform: Any) -> None:
        """Call the event's hook on core plugins and on the optional ones in ``enabled``.

        ``enabled`` None means every plugin (events that belong to no project).
        """
        caller = getattr(self.pm.hook, event.hook)
        if enabled is not None:
            removed = [p for n, p in self.optional.items() if n not in enabled]
            if removed:
                caller = self.pm.subset_hook_caller(event.hook, remove_plugins=removed)
        for result in caller(event=event, platform=platform):
            if inspect.isawaitable(result):
                try:
                    await result
                except Exception:
                    log.exception("event handler for %s failed", event.hook)
