"""The running platform: what a request, a job or a CLI command needs beside its arguments.

``create_app`` and the worker each build one ``Platform`` from explicit settings; it lives
on ``app.state.platform`` (web) and ``JobContext.platform`` (jobs). Service verbs that
enqueue jobs, send mail or emit events take it as their first argument.
"""

from __future__ import annotations

import inspect
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import jinja2

from forum.events import Event
from forum.gates import Attempt, Draft, Flair, Screening, Verdict, is_unguarded
from forum.hookspecs import TicketFacts, UnreadPosts
from forum.plugins import PluginManager
from forum.search import SearchBackend, build_search
from forum.settings import Settings

if TYPE_CHECKING:
    from forum.jobs import JobQueue

log = logging.getLogger(__name__)


def _fernet(settings: Settings, purpose: str) -> Any:
    import base64
    import hashlib

    from cryptography.fernet import Fernet

    digest = hashlib.sha256(f"{purpose}:{settings.secret()}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


@dataclass
class Platform:
    settings: Settings
    plugins: PluginManager
    jobs: JobQueue
    templates: jinja2.Environment
    search: SearchBackend
    # Name of the plugins enabled per project id, filled lazily by projects.service.
    enabled_plugins_cache: dict[int, set[str]] = field(default_factory=dict)

    def seal(self, purpose: str, value: str) -> str:
        """``value`` encrypted at rest (Fernet) under a key derived from the site's secret
        key and ``purpose`` (e.g. a plugin's name); "" stays "". A plugin's tokens and
        passwords are stored sealed and never shown back."""
        return _fernet(self.settings, purpose).encrypt(value.encode()).decode() \
            if value else ""

    def unseal(self, purpose: str, sealed: str) -> str:
        """The sealed value, or "" when none is stored or it was sealed under another site
        key (the operator changed it: the secret must be entered again)."""
        from cryptography.fernet import InvalidToken

        if not sealed:
            return ""
        try:
            return _fernet(self.settings, purpose).decrypt(sealed.encode()).decode()
        except InvalidToken:
            log.warning("a stored %s secret cannot be read: the site's secret key changed",
                        purpose)
            return ""

    async def enqueue(self, name: str, **kwargs: Any) -> None:
        """Queue a job; with the embedded runner it joins the caller's transaction."""
        await self.jobs.enqueue(name, **kwargs)

    async def send_mail(
        self, to: str, template: str, context: dict[str, Any], *, subject: str,
        headers: dict[str, str] | None = None,
    ) -> None:
        """Queue an email rendered from ``mail/<template>.txt`` (and ``.html`` if present).

        ``headers`` may thread it: ``{"In-Reply-To": "<id@host>", "References": "..."}``.
        """
        if to.lower().endswith("@staged.invalid"):
            return  # a staged user (forum/accounts/staged.py) has no mailbox
        extra: dict[str, Any] = {"headers": headers} if headers else {}
        await self.jobs.enqueue(
            "mail.send", to=to, template=template, context=context, subject=subject, **extra
        )

    async def emit(self, event: Event) -> None:
        """Hand a committed fact to the plugins enabled where it happened."""
        enabled: set[str] | None = None
        if event.project_id is not None:
            from forum.projects.service import enabled_plugin_names

            enabled = await enabled_plugin_names(self, event.project_id)
        try:
            await self.plugins.dispatch(event, enabled, self)
        except Exception:
            log.exception("dispatching %s failed", type(event).__name__)

    async def refusal(self, attempt: Attempt) -> str | None:
        """The first reason a domain gives to refuse ``attempt``, or None (see forum/gates.py)."""
        if is_unguarded():
            return None
        results = self.plugins.pm.hook.forum_refuse(attempt=attempt, platform=self)
        for index, result in enumerate(results):
            reason = await result if inspect.isawaitable(result) else result
            if reason:
                _close_unawaited(results[index + 1:])
                return str(reason)
        return None

    async def screen(self, draft: Draft) -> Screening:
        """Every screener's judgement of ``draft`` combined: a block beats a hold beats an
        allow; a rewrite is passed on to the next screener."""
        if is_unguarded():
            return Screening()
        held: Screening | None = None
        source = draft.source
        results = self.plugins.pm.hook.forum_screen_post(draft=draft, platform=self)
        for index, result in enumerate(results):
            answer = await result if inspect.isawaitable(result) else result
            if answer is None:
                continue
            if answer.verdict == Verdict.BLOCK:
                _close_unawaited(results[index + 1:])
                return answer
            if answer.source is not None:
                source = answer.source
            if answer.verdict == Verdict.HOLD and held is None:
                held = answer
        changed = source if source != draft.source else None
        if held is not None:
            return Screening(Verdict.HOLD, held.reason, changed)
        return Screening(Verdict.ALLOW, "", changed)

    async def flair(self, project_id: int, user_ids: list[int]) -> dict[int, Flair]:
        """What to show beside these users' names in the project (reputation, badges)."""
        found: dict[int, Flair] = {}
        if not user_ids:
            return found
        for result in self.plugins.pm.hook.forum_author_flair(
                project_id=project_id, user_ids=user_ids, platform=self):
            answer = await result if inspect.isawaitable(result) else result
            for user_id, flair in (answer or {}).items():
                found.setdefault(user_id, flair)  # the first answer for a user wins
        return found

    async def unread(self, user_id: int, topic_ids: list[int]) -> dict[int, UnreadPosts]:
        """Unread posts per topic for those of ``topic_ids`` (all readable by the user) that
        the user tracks or watches; other topics are left out."""
        found: dict[int, UnreadPosts] = {}
        if not topic_ids:
            return found
        for result in self.plugins.pm.hook.forum_topic_unread(
                user_id=user_id, topic_ids=topic_ids, platform=self):
            answer = await result if inspect.isawaitable(result) else result
            for topic_id, posts in (answer or {}).items():
                found.setdefault(topic_id, posts)  # the first answer for a topic wins
        return found

    async def ticket_facts(self, project_id: int, *, number: int | None = None,
                           ticket_id: int | None = None) -> TicketFacts | None:
        """What the support queue says about a ticket of the project, found by its number
        or its id (``forum_ticket_facts``; the first answer wins), or None."""
        results = self.plugins.pm.hook.forum_ticket_facts(
            project_id=project_id, number=number, ticket_id=ticket_id, platform=self)
        for index, result in enumerate(results):
            answer = await result if inspect.isawaitable(result) else result
            if answer is not None:
                _close_unawaited(results[index + 1:])
                return answer
        return None


def _close_unawaited(results: list[Any]) -> None:
    """Close the coroutines of answers no longer needed (else Python warns they were never
    awaited)."""
    for result in results:
        if inspect.iscoroutine(result):
            result.close()


def build_platform(settings: Settings, plugins: PluginManager | None = None) -> Platform:
    """Everything a process needs, from explicit settings (nothing at import time)."""
    from forum.jobs.runner import build_queue
    from forum.web.templating import build_environment

    if plugins is None:
        plugins = PluginManager(disabled=settings.disabled_plugins.split(","))
    return Platform(
        settings=settings,
        plugins=plugins,
        jobs=build_queue(settings, plugins),
        templates=build_environment(plugins, auto_reload=settings.debug),
        search=build_search(settings),
    )
