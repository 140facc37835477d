"""The plugin contract: every hook the platform calls, and the small types they return.

Registration hooks are called once when an app or worker is built. Event hooks are called
after a service verb commits, with the event and the running ``Platform`` (to enqueue jobs
or send mail); an implementation may take only the arguments it needs, and may be
``async``: the core awaits it.
The core's own domains implement these same hooks (see ``forum/*/plugin.py``).

A hook implementation whose arguments are not named here is refused at registration.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import pluggy

if TYPE_CHECKING:
    import click
    from pydantic import BaseModel
    from starlette.routing import BaseRoute

    from forum import charts, events, gates, queueing
    from forum.platform import Platform

PROJECT_NAME = "forum"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

JobFunc = Callable[..., Awaitable[Any]]


@dataclass(frozen=True)
class ModelApp:
    """A Tortoise app: its label, model modules and migrations package."""

    label: str
    modules: list[str]
    migrations: str


@dataclass(frozen=True)
class JobDefinition:
    """A named job. ``func(ctx, **kwargs)`` where ctx is a ``forum.jobs.JobContext``."""

    name: str
    func: JobFunc
    max_tries: int | None = None


@dataclass(frozen=True)
class CronDefinition:
    """Run job ``job`` on a schedule; ``None`` fields match every value (like cron's ``*``)."""

    job: str
    minute: set[int] | None = None
    hour: set[int] | None = None
    weekday: set[int] | None = None  # Monday is 0
    kwargs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class PluginSettings:
    """Per-project settings a plugin keeps; shown on the project's plugin page."""

    title: str
    schema: type[BaseModel]


@dataclass(frozen=True)
class BadgeGrant:
    """One user earning a badge; ``post_id`` names the post it is for (badges earned
    once per post, like "Nice Answer")."""

    user_id: int
    post_id: int | None = None


@dataclass(frozen=True)
class BadgeContext:
    """What a badge rule is evaluated against: one project, at ``now``. ``held_by``: users
    who already hold the badge; ``held_posts``: posts it was already given for."""

    project_id: int
    now: datetime
    platform: Platform
    held_by: frozenset[int] = frozenset()
    held_posts: frozenset[int] = frozenset()


BadgeLevel = Literal["bronze", "silver", "gold"]


@dataclass(frozen=True)
class UnreadPosts:
    """What a user has not read yet in a topic they track or watch: how many posts, and
    the number of the first (where the "3 new" badge links)."""

    count: int
    first_number: int


@dataclass(frozen=True)
class BadgeRule:
    """A badge and how it is earned. ``evaluate(ctx)`` returns who earns it now in
    ``ctx.project_id`` (user ids, or ``BadgeGrant`` with a post); returning people who
    already hold it is harmless, awards are idempotent. ``multiple``: earned once per post
    (the grants must name their post) instead of once per user."""

    slug: str  # lower-case letters, digits and "-", unique across plugins
    name: str
    description: str
    level: BadgeLevel
    evaluate: Callable[[BadgeContext], Awaitable[Iterable[int | BadgeGrant]]]
    multiple: bool = False


@dataclass(frozen=True)
class TicketFacts:
    """What other domains may know about a ticket (answered by the support queue through
    ``forum_ticket_facts``), without importing it. Money in minor units of ``currency``."""

    ticket_id: int
    topic_id: int
    project_id: int
    number: int
    reference: str  # "DEMO-42"
    title: str
    requester_id: int
    state: str  # a forum.support_queue TicketState value
    tier: str  # "free", "pay_as_you_go", "subscription", "enterprise"
    priority: int
    amount_paid: int
    currency: str
    is_private: bool
    queue_position: int | None  # 1-based; None when not queued
    url: str  # the ticket's page, a path


@dataclass(frozen=True)
class MailHandled:
    """What a domain did with an incoming email (``forum_mail_reply``,
    ``forum_mail_to_address``): ``ok`` with the URL of what it created, or refused with
    ``reason``, one polite sentence the sender gets back in a bounce; nothing was posted."""

    ok: bool
    reason: str = ""
    url: str = ""

    @classmethod
    def posted(cls, url: str) -> MailHandled:
        return cls(True, "", url)

    @classmethod
    def refused(cls, reason: str) -> MailHandled:
        return cls(False, reason, "")


# Registration hooks


@hookspec
def forum_models() -> ModelApp | list[str] | None:
    """Model modules: a ``ModelApp`` of the plugin's own, or core modules (a list)."""


@hookspec
def forum_routes() -> list[BaseRoute] | None:
    """Starlette routes mounted on the app."""


@hookspec
def forum_jobs() -> list[JobDefinition] | None:
    """Jobs this plugin can run."""


@hookspec
def forum_cron() -> list[CronDefinition] | None:
    """Scheduled runs of registered jobs."""


@hookspec
def forum_settings_schema() -> PluginSettings | None:
    """The per-project settings schema of this plugin."""


@hookspec
def forum_template_dirs() -> list[str] | None:
    """Directories searched for Jinja templates."""


@hookspec
def forum_template_outlets() -> dict[str, str] | None:
    """Templates to render into named outlets of the layout, e.g. ``{"footer": "x/f.html"}``."""


@hookspec
def forum_cli(cli: click.Group) -> None:
    """Add commands to the ``forum`` command line."""


@hookspec
def forum_demo(
    platform: Platform, project_id: int, user_ids: dict[str, int]
) -> Awaitable[list[str]] | None:
    """Seed demo content into the demo project (``forum demo``); idempotent. ``user_ids``
    maps the demo logins (admin, alice, bob) to ids. Returns what it created, for the log."""


@hookspec
def forum_badge_rules() -> list[BadgeRule] | None:
    """Badges this plugin awards (see ``BadgeRule``); evaluated in jobs, per project where
    the plugin is enabled."""


# Questions the core asks before acting (see forum/gates.py). All may be async.


@hookspec
def forum_refuse(attempt: gates.Attempt, platform: Platform) -> Awaitable[str | None] | str | None:
    """Why ``attempt.user_id`` may not do ``attempt.act`` now (one sentence for the user),
    or None. The first reason any implementation gives wins."""


@hookspec
def forum_screen_post(
    draft: gates.Draft, platform: Platform
) -> Awaitable[gates.Screening | None] | gates.Screening | None:
    """Judge a post before it is stored: allow (None), hold for review, block, or rewrite.
    A block beats a hold; rewrites apply in turn."""


@hookspec
def forum_spam_check(
    draft: gates.Draft, platform: Platform
) -> Awaitable[gates.Screening | None] | gates.Screening | None:
    """An external spam checker's opinion of a post about to be stored (None: no opinion).
    The moderation domain's screener asks every implementation; a block wins."""


@hookspec
def forum_author_flair(
    project_id: int, user_ids: list[int], platform: Platform
) -> Awaitable[dict[int, gates.Flair]] | dict[int, gates.Flair] | None:
    """Reputation and badge counts of these users in the project, in a bounded number of
    queries whatever the number of users."""


@hookspec
def forum_topic_unread(
    user_id: int, topic_ids: list[int], platform: Platform
) -> Awaitable[dict[int, UnreadPosts]] | dict[int, UnreadPosts] | None:
    """Unread posts per topic, for those of ``topic_ids`` this user tracks or watches
    (topics left out have none, or are normal or muted for them), in a bounded number of
    queries whatever the number of topics. The caller passes only topics the user may read.
    """


@hookspec
def forum_queue_policy(
    project_id: int, platform: Platform
) -> Awaitable[queueing.QueuePolicy | None] | queueing.QueuePolicy | None:
    """The policy that orders this project's support queue (see forum/queueing.py), or
    None to leave it to others; the first answer that is not None wins, and with none the
    built-in fair policy applies. Asked only while the project's queue is switched on."""


@hookspec
def forum_email_allowed(
    user_id: int, topic_id: int, kind: str, platform: Platform
) -> Awaitable[bool | None] | bool | None:
    """May a notification of ``kind`` about ``topic_id`` be emailed to ``user_id`` (it is
    kept in the app either way)? False: not by email; None: no opinion. The first False
    wins (the support queue answers for its team's notification level on each ticket)."""


@hookspec
def forum_ticket_facts(
    project_id: int, number: int | None, ticket_id: int | None, platform: Platform,
) -> Awaitable[TicketFacts | None] | TicketFacts | None:
    """The ticket numbered ``number`` in the project, or with id ``ticket_id`` (one of the
    two is given), or None when there is none. Answered by the support queue; the caller
    checks who may see it (``requester_id``, ``is_private`` and the project's team)."""


@hookspec
def forum_dashboard_panels(
    board: str, project_id: int, subject_user_id: int | None, months: int, platform: Platform,
) -> Awaitable[list[charts.Chart]] | list[charts.Chart] | None:
    """Charts for a dashboard (see forum/charts.py). ``board``: "helper", "lead",
    "supporter" or "customer"; ``subject_user_id``: whose board (None for "lead", which is
    the project's); ``months``: the period, the last so many calendar months (UTC) up to
    this one. The dashboard page has checked that the viewer may see it. Each domain
    answers for the figures it owns, in a bounded number of queries."""


# Incoming mail (forum/mail/inbound.py). All may be async; the first answer that is not
# None wins.


@hookspec
def forum_mail_reply(
    target_kind: str, target_id: int, user_id: int, text: str, message_id: str,
    platform: Platform,
) -> Awaitable[MailHandled | None] | MailHandled | None:
    """Post ``text`` (quotes and signature already stripped) as ``user_id`` into the target
    named by a verified reply token (``target_kind`` "topic" or "ticket"), through the same
    verbs and gates as the web. None: this implementation does not handle the kind."""


@hookspec
def forum_mail_to_address(
    local_part: str, sender_email: str, subject: str, text: str, message_id: str,
    platform: Platform,
) -> Awaitable[MailHandled | None] | MailHandled | None:
    """Mail to ``<local_part>@<FORUM_MAIL_IN_DOMAIN>`` that is not a reply address, e.g.
    ``support+demo``. ``sender_email`` is the From address (lower-cased), not verified by
    any signature: an implementation must not trust it beyond creating a draft its owner
    confirms. None: not an address this implementation knows."""


# Event hooks: one per domain event, named by ``Event.hook``


@hookspec
def on_user_created(event: events.UserCreated, platform: Platform) -> Awaitable[None] | None:
    """A user account was created."""


@hookspec
def on_user_verified(event: events.UserVerified, platform: Platform) -> Awaitable[None] | None:
    """A user verified their email address."""


@hookspec
def on_project_created(event: events.ProjectCreated, platform: Platform) -> Awaitable[None] | None:
    """A project was created."""


@hookspec
def on_member_role_changed(
    event: events.MemberRoleChanged, platform: Platform
) -> Awaitable[None] | None:
    """A member's role in a project changed, or the membership ended."""


@hookspec
def on_plugin_toggled(event: events.PluginToggled, platform: Platform) -> Awaitable[None] | None:
    """A plugin was switched on or off for a project."""


@hookspec
def on_topic_created(event: events.TopicCreated, platform: Platform) -> Awaitable[None] | None:
    """A topic was started (with its opening post)."""


@hookspec
def on_topic_changed(event: events.TopicChanged, platform: Platform) -> Awaitable[None] | None:
    """A topic's title, category, tags, state or visibility changed."""


@hookspec
def on_post_created(event: events.PostCreated, platform: Platform) -> Awaitable[None] | None:
    """A reply was posted (the opening post comes with on_topic_created)."""


@hookspec
def on_post_edited(event: events.PostEdited, platform: Platform) -> Awaitable[None] | None:
    """A post was edited."""


@hookspec
def on_post_deleted(event: events.PostDeleted, platform: Platform) -> Awaitable[None] | None:
    """A post was deleted or restored."""


@hookspec
def on_vote_cast(event: events.VoteCast, platform: Platform) -> Awaitable[None] | None:
    """A vote on a post was cast, changed or withdrawn."""


@hookspec
def on_answer_accepted(event: events.AnswerAccepted, platform: Platform) -> Awaitable[None] | None:
    """An answer was accepted, changed or withdrawn."""


@hookspec
def on_post_hidden(event: events.PostHidden, platform: Platform) -> Awaitable[None] | None:
    """A post was hidden pending review (held on writing, or hidden by flags or moderators)."""


@hookspec
def on_post_unhidden(event: events.PostUnhidden, platform: Platform) -> Awaitable[None] | None:
    """A hidden post was approved."""


@hookspec
def on_badge_awarded(event: events.BadgeAwarded, platform: Platform) -> Awaitable[None] | None:
    """A user earned a badge in a project."""


@hookspec
def on_ticket_submitted(event: events.TicketSubmitted, platform: Platform
                        ) -> Awaitable[None] | None:
    """A ticket entered the queue."""


@hookspec
def on_ticket_state_changed(event: events.TicketStateChanged, platform: Platform
                            ) -> Awaitable[None] | None:
    """A ticket moved from one state to another."""


@hookspec
def on_ticket_assigned(event: events.TicketAssigned, platform: Platform
                       ) -> Awaitable[None] | None:
    """A ticket was assigned, transferred or unassigned."""


@hookspec
def on_ticket_responded(event: events.TicketResponded, platform: Platform
                        ) -> Awaitable[None] | None:
    """Someone posted in a submitted ticket."""


@hookspec
def on_ticket_resolved(event: events.TicketResolved, platform: Platform
                       ) -> Awaitable[None] | None:
    """A ticket was solved."""


@hookspec
def on_user_penalised(event: events.UserPenalised, platform: Platform
                      ) -> Awaitable[None] | None:
    """A user was silenced, suspended or banned, in a project or platform-wide."""


@hookspec
def on_ticket_worth_changed(event: events.TicketWorthChanged, platform: Platform
                            ) -> Awaitable[None] | None:
    """Billing settled what a ticket is worth (tier, amount paid) after a payment or refund."""


@hookspec
def on_payment_recorded(event: events.PaymentRecorded, platform: Platform
                        ) -> Awaitable[None] | None:
    """A payment, refund or dispute reached the money ledger."""


@hookspec
def on_help_credited(event: events.HelpCredited, platform: Platform
                     ) -> Awaitable[None] | None:
    """A helper was credited (or debited, on a refund) with revenue their post earned."""


@hookspec
def on_thank_you_recorded(event: events.ThankYouRecorded, platform: Platform
                          ) -> Awaitable[None] | None:
    """A project lead recorded a thank-you (money sent, swag, a note) to a helper."""
