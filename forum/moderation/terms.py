"""Terms of service and codes of conduct: publishing versions and recording acceptances.

The platform and each project publish their own documents of two kinds. The current
version of a kind is its highest. Before a user's first topic, reply or ticket in a
project they accept the project's current versions and the platform's; a new version asks
again. A project that has published nothing asks nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from tortoise.expressions import Q
from tortoise.transactions import in_transaction

from forum.gates import Act, Attempt
from forum.moderation.audit import record
from forum.moderation.penalty_models import TermsAcceptance, TermsDocument, TermsKind
from forum.projects.models import Project
from forum.projects.permissions import Action, ProjectAccess
from forum.text import CookContext, CookError, cook
from forum.web.errors import Forbidden, Invalid

if TYPE_CHECKING:
    from forum.accounts.models import User
    from forum.platform import Platform

# Participation that needs the terms accepted first.
TERMS_ACTS = frozenset({Act.CREATE_TOPIC, Act.REPLY, Act.OPEN_TICKET, Act.PAY})
MAX_SOURCE = 100_000
KIND_TITLES = {TermsKind.TERMS: "Terms of service",
               TermsKind.CODE_OF_CONDUCT: "Code of conduct"}


@dataclass(frozen=True)
class CurrentDocument:
    document: TermsDocument
    accepted: bool

    @property
    def title(self) -> str:
        return KIND_TITLES[self.document.kind]

    @property
    def is_platform(self) -> bool:
        return self.document.project_id is None


def _scope(project_id: int | None) -> Q:
    scope = Q(project_id=None)
    return scope | Q(project_id=project_id) if project_id is not None else scope


async def current_ids(project_id: int | None) -> list[int]:
    """Ids of the current version of each document of the platform and the project."""
    rows = await TermsDocument.filter(_scope(project_id)).values_list(
        "id", "project_id", "kind", "version")
    latest: dict[tuple[int | None, str], tuple[int, int]] = {}
    for doc_id, pid, kind, version in rows:
        key = (pid, str(kind))
        if key not in latest or version > latest[key][1]:
            latest[key] = (doc_id, version)
    return sorted(doc_id for doc_id, _ in latest.values())


async def pending_ids(user_id: int, project_id: int | None) -> list[int]:
    """Current documents the user has not accepted."""
    ids = await current_ids(project_id)
    if not ids:
        return []
    accepted: set[int] = set(await TermsAcceptance.filter(  # type: ignore[arg-type]
        user_id=user_id, document_id__in=ids).values_list("document_id", flat=True))
    return [i for i in ids if i not in accepted]


async def current_documents(user_id: int | None, project_id: int | None
                            ) -> list[CurrentDocument]:
    """The platform's documents first, then the project's, each with whether the user
    has accepted it."""
    ids = await current_ids(project_id)
    if not ids:
        return []
    docs = await TermsDocument.filter(id__in=ids)
    accepted: set[int] = set()
    if user_id is not None:
        accepted = set(await TermsAcceptance.filter(  # type: ignore[arg-type]
            user_id=user_id, document_id__in=ids).values_list("document_id", flat=True))
    docs.sort(key=lambda d: (d.project_id is not None, d.kind.value))
    return [CurrentDocument(d, d.id in accepted) for d in docs]


def terms_url(platform: Platform, project_slug: str | None) -> str:
    path = f"/p/{project_slug}/terms" if project_slug else "/terms"
    return platform.settings.public_url + path


async def refusal_for(attempt: Attempt, platform: Platform) -> str | None:
    if attempt.act not in TERMS_ACTS or attempt.project_id is None:
        return None
    if not await pending_ids(attempt.user_id, attempt.project_id):
        return None
    project = await Project.filter(id=attempt.project_id).only("id", "slug").first()
    slug = project.slug if project else None
    return ("Accept the project's terms and code of conduct first: "
            f"{terms_url(platform, slug)}")


# Verbs


async def do_accept(user: User, project_id: int | None) -> list[TermsDocument]:
    """Accept every current document of the platform and the project not yet accepted."""
    ids = await pending_ids(user.id, project_id)
    if not ids:
        return []
    docs = await TermsDocument.filter(id__in=ids)
    async with in_transaction():
        for doc in docs:
            await TermsAcceptance.get_or_create(user_id=user.id, document_id=doc.id,
                                                defaults={"version": doc.version})
    return docs


def require_publisher(actor: User, access: ProjectAccess | None) -> None:
    if access is None:
        if not actor.is_platform_admin:
            raise Forbidden("Only platform admins may publish the platform's terms.")
    elif not access.can(Action.MANAGE_SETTINGS):
        raise Forbidden("Only the project's owner or leads may publish its terms.")


def cook_terms(source: str, project_slug: str | None) -> str:
    source = source.strip()
    if not source:
        raise Invalid("Please write the document.", fields={"source": "required"})
    if len(source) > MAX_SOURCE:
        raise Invalid("The document is too long.",
                      fields={"source": f"at most {MAX_SOURCE} characters"})
    try:
        return cook(source, CookContext(project_slug=project_slug or ""),
                    max_chars=MAX_SOURCE).html
    except CookError as exc:
        raise Invalid(str(exc), fields={"source": str(exc)}) from None


async def check_publish(platform: Platform, actor: User, access: ProjectAccess | None,
                        kind: TermsKind, source: str) -> TermsDocument:
    """Publish the next version of a document (project leads, or admins for the platform)."""
    require_publisher(actor, access)
    project = access.project if access else None
    cooked = cook_terms(source, project.slug if project else None)
    return await do_publish(actor, project, kind, source.strip(), cooked)


async def do_publish(actor: User | None, project: Project | None, kind: TermsKind,
                     source: str, cooked: str) -> TermsDocument:
    project_id = project.id if project else None
    async with in_transaction():
        last = await TermsDocument.filter(project_id=project_id, kind=kind).order_by(
            "-version").first()
        version = (last.version if last else 0) + 1
        doc = await TermsDocument.create(project_id=project_id, kind=kind, version=version,
                                         source=source, cooked=cooked,
                                         published_by_id=actor.id if actor else None)
        if actor is not None:  # whoever publishes it has read it
            await TermsAcceptance.create(user_id=actor.id, document_id=doc.id,
                                         version=version)
        await record(project_id, actor.id if actor else None, "terms.published", "terms",
                     doc.id, {"kind": kind.value, "version": version})
    return doc
