"""Domain events: frozen facts emitted after a service verb commits.

Each event names the plugin hook that receives it (``hook``); ``project_id`` is set when
the fact belongs to one project, so only plugins enabled there hear it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar


@dataclass(frozen=True)
class Event:
    hook: ClassVar[str]

    @property
    def project_id(self) -> int | None:
        return None


@dataclass(frozen=True)
class UserCreated(Event):
    hook: ClassVar[str] = "on_user_created"
    user_id: int
    username: str


@dataclass(frozen=True)
class UserVerified(Event):
    hook: ClassVar[str] = "on_user_verified"
    user_id: int


@dataclass(frozen=True)
class ProjectCreated(Event):
    hook: ClassVar[str] = "on_project_created"
    id: int
    slug: str
    owner_id: int

    @property
    def project_id(self) -> int | None:
        return self.id


@dataclass(frozen=True)
class MemberRoleChanged(Event):
    hook: ClassVar[str] = "on_member_role_changed"
    project: int
    user_id: int
    role: str | None  # None when the membership ended

    @property
    def project_id(self) -> int | None:
        return self.project


@dataclass(frozen=True)
class PluginToggled(Event):
    hook: ClassVar[str] = "on_plugin_toggled"
    project: int
    plugin: str
    enabled: bool

    @property
    def project_id(self) -> int | None:
        return self.project


# Topics and Q&A. ``project`` is the project id; every one of these belongs to a project.


@dataclass(frozen=True)
class _InProject(Event):
    @property
    def project_id(self) -> int | None:
        return getattr(self, "project", None)


@dataclass(frozen=True)
class TopicCreated(_InProject):
    hook: ClassVar[str] = "on_topic_created"
    project: int
    topic_id: int
    post_id: int  # the opening post
    author_id: int
    category_id: int
    kind: str
    # The opening post's mentions and quotes (replies carry theirs in PostCreated).
    mentioned_user_ids: tuple[int, ...] = ()
    quoted_post_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class TopicChanged(_InProject):
    """Title, category, tags, state, pin/lock/privacy, deletion or restore of a topic."""

    hook: ClassVar[str] = "on_topic_changed"
    project: int
    topic_id: int
    actor_id: int | None
    change: str  # "edited", "moved", "tags", "state", "pinned", "locked", "deleted", "restored"


@dataclass(frozen=True)
class PostCreated(_InProject):
    hook: ClassVar[str] = "on_post_created"
    project: int
    topic_id: int
    post_id: int
    author_id: int
    number: int
    reply_to_post_id: int | None
    mentioned_user_ids: tuple[int, ...] = ()
    quoted_post_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class PostEdited(_InProject):
    hook: ClassVar[str] = "on_post_edited"
    project: int
    topic_id: int
    post_id: int
    editor_id: int
    newly_mentioned_user_ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class PostDeleted(_InProject):
    """A post was soft-deleted (``restored`` False) or restored (True)."""

    hook: ClassVar[str] = "on_post_deleted"
    project: int
    topic_id: int
    post_id: int
    author_id: int
    actor_id: int
    restored: bool = False


@dataclass(frozen=True)
class VoteCast(_InProject):
    """A vote changed from ``old_value`` to ``new_value`` (each -1, 0 or +1)."""

    hook: ClassVar[str] = "on_vote_cast"
    project: int
    topic_id: int
    post_id: int
    post_author_id: int
    voter_id: int
    old_value: int
    new_value: int
    is_question: bool  # the vote is on a question's opening post


@dataclass(frozen=True)
class AnswerAccepted(_InProject):
    """``post_id`` None: the accepted answer was withdrawn."""

    hook: ClassVar[str] = "on_answer_accepted"
    project: int
    topic_id: int
    post_id: int | None
    answer_author_id: int | None
    accepter_id: int
    previous_post_id: int | None
    previous_answer_author_id: int | None


@dataclass(frozen=True)
class PostHidden(_InProject):
    """A post was hidden pending review: held when written (``actor_id`` None: screening
    held it) or hidden by flags or a moderator."""

    hook: ClassVar[str] = "on_post_hidden"
    project: int
    topic_id: int
    post_id: int
    author_id: int
    reason: str
    actor_id: int | None = None


@dataclass(frozen=True)
class PostUnhidden(_InProject):
    """A hidden post was approved and is visible again."""

    hook: ClassVar[str] = "on_post_unhidden"
    project: int
    topic_id: int
    post_id: int
    author_id: int
    actor_id: int | None = None


@dataclass(frozen=True)
class BadgeAwarded(_InProject):
    hook: ClassVar[str] = "on_badge_awarded"
    project: int
    user_id: int
    badge: str  # the badge's slug
    level: str  # "bronze", "silver" or "gold"
    award_id: int
    badge_name: str = ""  # as shown to people ("Nice Answer")
    post_id: int | None = None  # the post it was earned for, if any


# The support queue. ``project`` is the project id.


@dataclass(frozen=True)
class TicketSubmitted(_InProject):
    """A ticket entered the queue (created submitted, or a draft submitted)."""

    hook: ClassVar[str] = "on_ticket_submitted"
    project: int
    ticket_id: int
    topic_id: int
    requester_id: int


@dataclass(frozen=True)
class TicketStateChanged(_InProject):
    hook: ClassVar[str] = "on_ticket_state_changed"
    project: int
    ticket_id: int
    actor_id: int | None  # None: the system (auto-close, a reply that reopens)
    old: str
    new: str


@dataclass(frozen=True)
class TicketAssigned(_InProject):
    """``assignee_id`` None: the ticket was unassigned."""

    hook: ClassVar[str] = "on_ticket_assigned"
    project: int
    ticket_id: int
    assignee_id: int | None
    actor_id: int


@dataclass(frozen=True)
class TicketResponded(_InProject):
    """A post in a submitted ticket: by the team (``first``: its first response) or by the
    requester's side."""

    hook: ClassVar[str] = "on_ticket_responded"
    project: int
    ticket_id: int
    post_id: int
    by_team: bool
    first: bool


@dataclass(frozen=True)
class TicketResolved(_InProject):
    """A ticket was solved; ``answer_author_ids``: the distinct authors other than the
    requester who posted in it (team or community), for credit."""

    hook: ClassVar[str] = "on_ticket_resolved"
    project: int
    ticket_id: int
    requester_id: int
    tier: str
    amount_paid: int
    currency: str
    answer_author_ids: tuple[int, ...] = ()


# Moderation, billing and recognition. ``project`` is the project id (None: platform-wide).


@dataclass(frozen=True)
class UserPenalised(Event):
    """A user was silenced, suspended or banned (``project`` None: on the whole platform).
    Billing ends a banned requester's subscriptions without refund."""

    hook: ClassVar[str] = "on_user_penalised"
    project: int | None
    user_id: int
    kind: str  # "silence", "suspend" or "ban"
    penalty_id: int
    actor_id: int | None

    @property
    def project_id(self) -> int | None:
        return self.project


@dataclass(frozen=True)
class TicketWorthChanged(_InProject):
    """Billing's word on what a ticket is worth now, in absolute terms (the sum of its
    payments net of refunds): the support queue sets exactly this, so replays and
    out-of-order deliveries converge. ``tier`` "free" when everything was refunded."""

    hook: ClassVar[str] = "on_ticket_worth_changed"
    project: int
    ticket_id: int
    tier: str
    amount_paid: int  # minor units of ``currency``
    currency: str
    priority: int | None = None  # None: keep the ticket's priority
    # The customer's guaranteed response times in business minutes (an enterprise plan):
    # they replace the project's SLA targets for this ticket. None: the project's targets.
    first_response_minutes: int | None = None
    next_response_minutes: int | None = None


@dataclass(frozen=True)
class PaymentRecorded(_InProject):
    """A money movement reached the ledger: a payment (``amount`` > 0) or a refund or
    dispute (``amount`` < 0). ``purpose`` "ticket_upgrade" or "plan_invoice"."""

    hook: ClassVar[str] = "on_payment_recorded"
    project: int
    entry_id: int
    user_id: int | None  # the customer
    purpose: str
    amount: int  # gross, minor units
    project_net: int
    currency: str
    ticket_id: int | None = None


@dataclass(frozen=True)
class HelpCredited(_InProject):
    """Part of a paid ticket's project-net revenue was attributed to a helper's post
    (``amount`` < 0: the attribution was reversed by a refund). ``attribution_id`` is the
    ledger row, unique: a listener that keeps a copy keys it by this id."""

    hook: ClassVar[str] = "on_help_credited"
    project: int
    attribution_id: int
    user_id: int
    ticket_id: int
    topic_id: int
    post_id: int | None
    amount: int  # minor units of ``currency``
    currency: str
    reference: str  # "DEMO-42"


@dataclass(frozen=True)
class ThankYouRecorded(_InProject):
    """A project lead thanked a helper (``kind`` "money_sent", "swag" or "note"); the helper
    is notified and decides whether it shows on their profile."""

    hook: ClassVar[str] = "on_thank_you_recorded"
    project: int
    thank_you_id: int
    helper_id: int
    lead_id: int
    kind: str
    amount: int | None  # minor units of ``currency``, when money was sent
    currency: str
