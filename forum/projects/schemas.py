"""Input and output of the projects domain: the same models validate forms, the JSON API and
describe it in the OpenAPI document."""

from __future__ import annotations

import re
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from forum.projects.models import Role, Visibility

SLUG_RE = re.compile(r"^[a-z](?:[a-z0-9-]{0,38}[a-z0-9])$")
# Words that would read like a page of the platform rather than a project's.
RESERVED_SLUGS = frozenset({
    "about", "account", "accounts", "admin", "api", "auth", "billing", "docs", "healthz",
    "help", "invitations", "login", "logout", "mail", "new", "p", "project", "projects",
    "settings", "signup", "static", "support", "webhooks", "www",
})
EMAIL_RE = re.compile(r"^[^@\s]{1,64}@[^@\s.]+(?:\.[^@\s.]+)+$")


def _strip(value: Any) -> Any:
    return value.strip() if isinstance(value, str) else value


def check_slug(value: str) -> str:
    if not 2 <= len(value) <= 40:
        raise ValueError("must be 2 to 40 characters long")
    if not SLUG_RE.match(value):
        raise ValueError("use lowercase letters, digits and hyphens, starting with a letter "
                         "and not ending with a hyphen")
    if value in RESERVED_SLUGS:
        raise ValueError(f'"{value}" is reserved; choose another')
    return value


def check_name(value: str) -> str:
    if not value:
        raise ValueError("is required")
    return value


def check_email(value: str) -> str:
    if len(value) > 254 or not EMAIL_RE.match(value):
        raise ValueError("is not a valid email address")
    return value


def check_optional_email(value: str) -> str:
    return check_email(value) if value else value


def check_time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ValueError("is not a known time zone (e.g. Europe/Berlin, UTC)") from None
    return value


Slug = Annotated[str, BeforeValidator(_strip), AfterValidator(check_slug)]
Name = Annotated[str, BeforeValidator(_strip), Field(max_length=80), AfterValidator(check_name)]
Description = Annotated[str, Field(max_length=5000)]
LegalEntity = Annotated[str, BeforeValidator(_strip), Field(max_length=200)]
ContactEmail = Annotated[str, BeforeValidator(_strip), AfterValidator(check_optional_email)]
TimeZone = Annotated[str, BeforeValidator(_strip), Field(max_length=64),
                     AfterValidator(check_time_zone)]


class ProjectIn(BaseModel):
    """A new project."""

    model_config = ConfigDict(extra="forbid")

    slug: Slug = Field(description="2-40 lowercase letters, digits, hyphens; starts "
                       "with a letter")
    name: Name
    description: Description = ""
    legal_entity: LegalEntity = Field(default="", description="Seller of record on invoices")
    contact_email: ContactEmail = ""
    time_zone: TimeZone = "UTC"
    default_visibility: Visibility = Visibility.PUBLIC


class ProjectUpdate(BaseModel):
    """Changes to a project's settings; absent fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name: Name | None = None
    description: Description | None = None
    legal_entity: LegalEntity | None = None
    contact_email: ContactEmail | None = None
    time_zone: TimeZone | None = None
    default_visibility: Visibility | None = None


class ProjectOut(BaseModel):
    slug: str
    name: str
    description: str
    legal_entity: str
    contact_email: str
    time_zone: str
    default_visibility: Visibility
    created_at: datetime
    members_count: int
    your_role: Role | None = Field(default=None,
                                   description="The caller's role; null if not a member")


class ProjectList(BaseModel):
    projects: list[ProjectOut]


class MemberOut(BaseModel):
    user_id: int
    username: str
    role: Role
    joined_at: datetime


class MemberList(BaseModel):
    members: list[MemberOut]


class InvitationIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, BeforeValidator(_strip), AfterValidator(check_email)]
    role: Role = Role.MEMBER


class RoleIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    role: Role


def parse_fee_percent(value: Any) -> Decimal:
    """A platform fee in percent: 0 to 100 with at most two decimals."""
    try:
        fee = Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError("must be a number, e.g. 5 or 2.5") from None
    if not fee.is_finite() or not Decimal(0) <= fee <= Decimal(100):
        raise ValueError("must be between 0 and 100")
    if fee != fee.quantize(Decimal("0.01")):
        raise ValueError("may have at most two decimals")
    return fee.quantize(Decimal("0.01"))


class PlatformSettingsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    platform_fee_percent: Annotated[Decimal, BeforeValidator(parse_fee_percent)]
