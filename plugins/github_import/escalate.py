"""Escalation: a maintainer turns a topic or ticket into a GitHub issue in one form.

The form is prefilled with the topic's title and a summary (the opening post, the
accepted answer or the best-scored replies, a link back); the maintainer edits it, picks
one of the project's linked repositories and the labels, and the issue is created
(``POST /repos/{owner}/{repo}/issues``). The link is kept as an ``IssueLink`` (origin
"escalated"), on the topic (``plugin_data["github_import"]``, which the topic page shows)
and as a line in its timeline. A topic is escalated once: a second time is a 409.

Who may: the project's maintainers, leads and owners (and platform admins), in a project
that switched the plugin on; anyone else gets a 403, and a topic of another project or a
project without the plugin a 404.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from forum.projects.permissions import access_project
from forum.projects.service import enabled_plugin_names
from forum.topics.service import (
    access_topic,
    load_posts,
    load_viewer,
    record_topic_event,
    set_topic_plugin_data,
)
from forum.web.errors import Conflict, Forbidden, Invalid, NotFound, UserError
from plugins.github_import.client import GitHubClient, GitHubError, RateLimited
from plugins.github_import.connection import NAME  # also the topic's plugin_data key
from plugins.github_import.models import Connection, IssueLink, LinkOrigin

if TYPE_CHECKING:
    from collections.abc import Callable

    from forum.platform import Platform

# The rows the services hand out (a plugin does not import the core's models):
# forum.projects.models.Project, forum.topics.models.Topic and Post,
# forum.accounts.models.User.
Project = Any
Topic = Any
Post = Any
User = Any

ESCALATING_ROLES = frozenset({"owner", "lead", "maintainer"})
MAX_TITLE = 256  # GitHub's limit for an issue title
MAX_BODY = 60_000  # GitHub refuses bodies over 65,536 characters
MAX_LABELS = 10
EXCERPT = 1_500  # characters of each key reply in the summary
KEY_REPLIES = 2



@dataclass(frozen=True)
class Escalation:
    """What the form works on: the project, the topic and where the issue may go."""

    project: Project
    topic: Topic
    user: User
    repos: list[str]
    link: IssueLink | None


def topic_data(topic: Topic) -> dict[str, Any]:
    """What the bridge keeps on a topic (its linked issue), as a plain dict."""
    found = topic.plugin_data.get(NAME)
    return dict(found) if isinstance(found, dict) else {}


def may_escalate(role: str | None, is_admin: bool) -> bool:
    return is_admin or (role is not None and str(role) in ESCALATING_ROLES)


async def access_escalation(platform: Platform, user: User | None, slug: str,
                            topic_id: int) -> Escalation:
    """The topic a signed-in maintainer may escalate, or NotFound / Forbidden."""
    access = await access_project(user, slug)
    project = access.project
    if NAME not in await enabled_plugin_names(platform, project.id):
        raise NotFound("GitHub is not switched on in this project.")
    viewer = await load_viewer(user, project)
    topic, _ = await access_topic(viewer, project, topic_id)
    if user is None or not may_escalate(access.role, access.is_admin):
        raise Forbidden("Only the project's maintainers can escalate to GitHub.")
    repos = list(await Connection.filter(project_id=project.id).order_by("repo")
                 .values_list("repo", flat=True))
    link = await IssueLink.filter(topic_id=topic.id).order_by("id").first()
    return Escalation(project, topic, user, [str(r) for r in repos], link)


def topic_link(platform: Platform, project: Project, topic: Topic) -> str:
    tail = f"-{topic.slug}" if topic.slug else ""
    return f"{platform.settings.public_url}/p/{project.slug}/t/{topic.id}{tail}"


def _quote_block(text: str, limit: int) -> str:
    text = text.strip()
    if len(text) > limit:
        text = text[:limit].rstrip() + " …"
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines()) or "> (empty)"


def build_summary(url: str, project_name: str, topic: Topic, posts: list[Post]) -> str:
    """The issue body: the opening post, the accepted answer (or the best-scored replies)
    and a link back to the discussion. ``posts`` in page order, authors loaded."""
    opening = next((p for p in posts if p.number == 1), None)
    replies = [p for p in posts if p.number != 1 and p.deleted_at is None
               and p.hidden_at is None]
    accepted = next((p for p in replies if p.id == topic.accepted_post_id), None)
    key = sorted((p for p in replies if p is not accepted and p.score > 0),
                 key=lambda p: (-p.score, p.number))[:KEY_REPLIES]
    parts = [f"Escalated from the {project_name} forum: [{topic.title}]({url})", ""]
    if opening is not None:
        parts += [f"**Reported by @{opening.author.username}:**", "",
                  _quote_block(opening.source, MAX_BODY // 2), ""]
    if accepted is not None:
        parts += [f"**Accepted answer by @{accepted.author.username}:**", "",
                  _quote_block(accepted.source, EXCERPT), ""]
    for post in key:
        parts += [f"**Reply by @{post.author.username}** (score {post.score}, "
                  f"[#{post.number}]({url}#post-{post.number})):", "",
                  _quote_block(post.source, EXCERPT), ""]
    others = len(replies) - len(key) - (1 if accepted is not None else 0)
    if others > 0:
        parts += [f"{others} more repl{'y' if others == 1 else 'ies'} in the discussion: {url}"]
    return "\n".join(parts).strip()[:MAX_BODY]


async def prefill(platform: Platform, esc: Escalation) -> dict[str, Any]:
    """The form's initial values."""
    url = topic_link(platform, esc.project, esc.topic)
    if esc.topic.is_private:  # a private ticket's text is not copied out unasked
        body = (f"Escalated from the {esc.project.name} forum: {url}\n\n"
                "(The forum topic is private: its text is not copied here. Write what "
                "may be public.)")
    else:
        viewer = await load_viewer(esc.user, esc.project)
        body = build_summary(url, esc.project.name, esc.topic,
                             await load_posts(viewer, esc.topic))
    return {"title": esc.topic.title[:MAX_TITLE], "body": body,
            "repo": esc.repos[0] if esc.repos else "", "labels": ""}


@dataclass(frozen=True)
class IssueDraft:
    repo: str
    title: str
    body: str
    labels: list[str]


def parse_labels(text: str) -> list[str]:
    labels: list[str] = []
    for raw in text.split(","):
        label = raw.strip()
        if label and label not in labels:
            labels.append(label)
    return labels


def check_escalate(esc: Escalation, form: dict[str, str]) -> IssueDraft:
    """Validate the form; Conflict (409) when the topic is already linked to an issue."""
    if esc.link is not None:
        raise Conflict(f"This topic is already linked to {esc.link.repo}#"
                       f"{esc.link.issue_number}: {esc.link.html_url}")
    if not esc.repos:
        raise Invalid("No repository is linked to this project yet.",
                      fields={"repo": "link a repository first"})
    fields: dict[str, str] = {}
    title = " ".join(form.get("title", "").split())
    body = form.get("body", "").strip()
    repo = form.get("repo", "").strip().lower()
    labels = parse_labels(form.get("labels", ""))
    if not title:
        fields["title"] = "is required"
    elif len(title) > MAX_TITLE:
        fields["title"] = f"is longer than {MAX_TITLE} characters"
    if len(body) > MAX_BODY:
        fields["body"] = f"is longer than {MAX_BODY} characters"
    if repo not in esc.repos:
        fields["repo"] = "is not a repository of this project"
    if len(labels) > MAX_LABELS or any(len(label) > 50 for label in labels):
        fields["labels"] = f"at most {MAX_LABELS} labels of up to 50 characters"
    if fields:
        raise Invalid("Please correct the form.", fields=fields)
    return IssueDraft(repo, title, body, labels)


class GitHubRefused(UserError):
    """GitHub said no (or could not be reached): a 502 naming GitHub's reason."""

    def __init__(self, message: str) -> None:
        super().__init__(502, message, code="github_error")


async def do_escalate(platform: Platform, esc: Escalation, draft: IssueDraft,
                      open_client: Callable[[Platform, Connection], GitHubClient],
                      ) -> IssueLink:
    """Create the issue, keep the link, tell the topic's timeline."""
    connection = await Connection.get(project_id=esc.project.id, repo=draft.repo)
    client = open_client(platform, connection)
    try:
        issue = await client.create_issue(draft.repo, draft.title, draft.body,
                                          draft.labels or None)
    except RateLimited as exc:
        raise GitHubRefused(f"GitHub's rate limit: try again in {int(exc.wait_seconds) + 1} "
                            "seconds.") from exc
    except GitHubError as exc:
        raise GitHubRefused(f"GitHub refused the issue: {exc.status} {exc.message}") from exc
    finally:
        await client.aclose()
    number = int(issue["number"])
    html_url = str(issue.get("html_url", ""))
    link = await IssueLink.create(
        project_id=esc.project.id, topic_id=esc.topic.id, repo=draft.repo,
        issue_number=number, issue_node_id=str(issue.get("node_id", "")), html_url=html_url,
        origin=LinkOrigin.ESCALATED, state=str(issue.get("state", "open")))
    await set_topic_plugin_data(esc.topic.id, NAME, {
        **topic_data(esc.topic), "repo": draft.repo, "issue_number": number,
        "html_url": html_url, "state": link.state})
    await record_topic_event(platform, esc.topic.id, "github.escalated",
                             f"{esc.user.username} escalated this to GitHub issue "
                             f"{draft.repo}#{number}", url=html_url, actor_id=esc.user.id)
    return link
