"""Response templates: canned replies a supporter inserts into a ticket's reply.

A template is project-wide (``owner`` None: every supporter of the project sees it, leads
and owners edit it) or personal (seen and edited by its owner only). Its body is markdown
with variables in braces, filled when inserted::

    Hello {requester_name}, thanks for {reference}. We expect to answer {expected_response}.

Variables are checked when a template is saved: an unknown name, an attribute or index
(``{requester_name.__class__}``, ``{x[0]}``), a conversion or a format spec is refused with
a 422, as is a lone brace (literal braces are written ``{{`` and ``}}``). Rendering then
uses ``str.format_map`` over plain strings only, so a template can never reach an object.
"""

from __future__ import annotations

import string
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tortoise.expressions import Q

from forum.projects.models import Role
from forum.projects.permissions import ProjectAccess
from forum.support_queue.team_models import ResponseTemplate
from forum.topics.permissions import TEAM_ROLES
from forum.web.errors import Forbidden, Invalid, NotFound

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.settings import Settings
    from forum.support_queue.models import Ticket

VARIABLES: dict[str, str] = {
    "requester_name": "the requester's name",
    "ticket_link": "the ticket's address",
    "project_name": "the project's name",
    "expected_response": "when the requester can expect an answer",
    "reference": "the ticket's reference, e.g. DEMO-42",
}
MAX_NAME = 80
MAX_BODY = 20_000
MAX_TEMPLATES_PER_OWNER = 200


def is_team(access: ProjectAccess) -> bool:
    return access.is_admin or (access.role is not None and access.role in TEAM_ROLES)


def is_lead(access: ProjectAccess) -> bool:
    return access.is_admin or access.role in (Role.OWNER, Role.LEAD)


def require_team(access: ProjectAccess) -> None:
    if not is_team(access):
        raise Forbidden("Only the project's team may use response templates.")


def body_problem(body: str) -> str | None:
    """Why ``body`` cannot be saved, or None."""
    try:
        parts = list(string.Formatter().parse(body))
    except ValueError:
        return "A brace is not closed: write {{ and }} for literal braces."
    for _literal, field, spec, conversion in parts:
        if field is None:
            continue
        if field not in VARIABLES:
            known = ", ".join("{" + v + "}" for v in VARIABLES)
            return f"Unknown variable {{{field}}}: use one of {known}."
        if spec or conversion:
            return f"Write {{{field}}} without a format or conversion."
    return None


def check_fields(name: str, body: str) -> tuple[str, str]:
    name = name.strip()
    fields: dict[str, str] = {}
    if not name:
        fields["name"] = "Give the template a name."
    elif len(name) > MAX_NAME:
        fields["name"] = f"At most {MAX_NAME} characters."
    if not body.strip():
        fields["body"] = "Write the template's text."
    elif len(body) > MAX_BODY:
        fields["body"] = f"At most {MAX_BODY} characters."
    else:
        problem = body_problem(body)
        if problem:
            fields["body"] = problem
    if fields:
        raise Invalid("Please correct the template.", fields=fields)
    return name, body


def visible_q(project_id: int, user_id: int) -> Q:
    return Q(project_id=project_id) & (Q(owner_id=None) | Q(owner_id=user_id))


async def templates_for(access: ProjectAccess, user: User) -> list[ResponseTemplate]:
    """The project-wide templates, then the user's own, each by name."""
    require_team(access)
    found = await ResponseTemplate.filter(visible_q(access.project.id, user.id))
    return sorted(found, key=lambda t: (t.owner_id is not None,  # type: ignore[attr-defined]
                                        t.name.lower(), t.id))


async def access_template(access: ProjectAccess, user: User, template_id: int
                          ) -> ResponseTemplate:
    """A template the user may use in this project (someone else's personal ones are not
    found)."""
    require_team(access)
    template = await ResponseTemplate.filter(
        visible_q(access.project.id, user.id), id=template_id).first()
    if template is None:
        raise NotFound("No such response template.")
    return template


def may_edit(access: ProjectAccess, user: User, template: ResponseTemplate) -> bool:
    owner_id = template.owner_id  # type: ignore[attr-defined]
    if owner_id is None:
        return is_lead(access)
    return bool(owner_id == user.id)


async def access_editable(access: ProjectAccess, user: User, template_id: int
                          ) -> ResponseTemplate:
    template = await access_template(access, user, template_id)
    if not may_edit(access, user, template):
        raise Forbidden("Only the project's owners and leads may change project-wide "
                        "templates.")
    return template


async def check_create(access: ProjectAccess, user: User, name: str, body: str,
                       project_wide: bool) -> ResponseTemplate:
    require_team(access)
    if project_wide and not is_lead(access):
        raise Forbidden("Only the project's owners and leads may add project-wide templates.")
    name, body = check_fields(name, body)
    owner_id = None if project_wide else user.id
    count = await ResponseTemplate.filter(project_id=access.project.id,
                                          owner_id=owner_id).count()
    if count >= MAX_TEMPLATES_PER_OWNER:
        raise Invalid(f"At most {MAX_TEMPLATES_PER_OWNER} templates here; delete one first.")
    return await ResponseTemplate.create(project_id=access.project.id, owner_id=owner_id,
                                         name=name, body=body)


async def check_update(access: ProjectAccess, user: User, template_id: int,
                       name: str | None, body: str | None) -> ResponseTemplate:
    template = await access_editable(access, user, template_id)
    new_name, new_body = check_fields(template.name if name is None else name,
                                      template.body if body is None else body)
    template.name, template.body = new_name, new_body
    await template.save(update_fields=["name", "body", "updated_at"])
    return template


async def check_delete(access: ProjectAccess, user: User, template_id: int) -> None:
    template = await access_editable(access, user, template_id)
    await template.delete()


@dataclass(frozen=True)
class TicketFacts:
    """What a template's variables are filled from."""

    requester_name: str
    ticket_link: str
    project_name: str
    expected_response: str
    reference: str

    def mapping(self) -> dict[str, str]:
        return {"requester_name": self.requester_name, "ticket_link": self.ticket_link,
                "project_name": self.project_name,
                "expected_response": self.expected_response, "reference": self.reference}


class _Visible(dict[str, str]):
    """Unknown names (a template saved before a variable was renamed) stay as written."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def render_body(body: str, facts: TicketFacts) -> str:
    """The template's text with its variables filled; a body that no longer parses (it
    was valid when saved) is returned as written rather than failing the composer."""
    if body_problem(body) is not None:
        return body
    return body.format_map(_Visible(facts.mapping()))


async def ticket_facts(settings: Settings, ticket: Ticket) -> TicketFacts:
    from forum.accounts.models import User
    from forum.projects.models import Project
    from forum.topics.models import Topic

    project = await Project.get(id=ticket.project_id)  # type: ignore[attr-defined]
    topic = await Topic.get(id=ticket.topic_id)  # type: ignore[attr-defined]
    requester = await User.get(id=ticket.requester_id)  # type: ignore[attr-defined]
    return TicketFacts(
        requester_name=requester.display_name or requester.username,
        ticket_link=f"{settings.public_url}/p/{project.slug}/t/{topic.id}-{topic.slug}",
        project_name=project.name,
        expected_response=await expected_response_text(ticket),
        reference=ticket.reference_in(project.slug),
    )


async def expected_response_text(ticket: Ticket) -> str:
    """When the requester can expect an answer, in words: the queue's estimate while the
    ticket waits for a first response, else the next response's due time."""
    from forum.support_queue.queue import expected_response

    estimate = await expected_response(ticket)
    if estimate is not None:
        return f"within {estimate.label}"
    due = ticket.first_response_due_at if ticket.first_response_at is None else (
        ticket.next_response_due_at)
    if due is None:
        return "as soon as we can"
    return "by " + due.strftime("%A %d %B %Y, %H:%M UTC")
