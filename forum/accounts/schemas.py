"""JSON input and output of the accounts API (the same models feed the OpenAPI document)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from forum.accounts.models import ApiKey, User


class SignupIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    username: str = Field(description="3-30 letters, digits, _ - . ; starts with a letter "
                                      "or digit; unique ignoring case")
    email: str = Field(description="unique; stored lower-cased")
    password: str = Field(description="10-128 characters, not a common password")


class LoginIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    login: str = Field(description="username or email address")
    password: str


class UserOut(BaseModel):
    id: int
    username: str
    email: str
    email_verified: bool
    is_platform_admin: bool
    created_at: datetime

    @classmethod
    def of(cls, user: User) -> UserOut:
        return cls(id=user.id, username=user.username, email=user.email,
                   email_verified=user.is_verified, is_platform_admin=user.is_platform_admin,
                   created_at=user.created_at)


class ApiKeyIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="what the key is for, 1-80 characters")


class ApiKeyOut(BaseModel):
    id: int
    name: str
    prefix: str = Field(description="the key's first characters, to recognise it")
    created_at: datetime
    last_used_at: datetime | None

    @classmethod
    def of(cls, api_key: ApiKey) -> ApiKeyOut:
        return cls(id=api_key.id, name=api_key.name, prefix=api_key.prefix,
                   created_at=api_key.created_at, last_used_at=api_key.last_used_at)


class ApiKeyList(BaseModel):
    keys: list[ApiKeyOut]


class ApiKeyCreated(ApiKeyOut):
    key: str = Field(description="the secret, returned only in this response")
