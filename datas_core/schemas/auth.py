"""API keys, human users and sessions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field, model_validator

from datas_core.schemas.common import Out, Strict

Role = Literal["admin", "site", "broker", "reader"]


class KeyCreate(Strict):
    role: Role
    site_id: str | None = Field(None, description="required for role=site")
    name: str | None = Field(None, max_length=200)

    @model_validator(mode="after")
    def _site_binding(self) -> KeyCreate:
        if self.role == "site" and not self.site_id:
            raise ValueError("a key with role 'site' needs site_id (the site it may write for)")
        if self.role != "site" and self.site_id:
            raise ValueError("only keys with role 'site' are bound to a site_id")
        return self


class KeyOut(Out):
    key_id: str
    name: str | None = None
    role: str
    site_id: str | None = None
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None


class KeyCreated(KeyOut):
    key: str = Field(description="the secret key; shown once, store it now")


class UserCreate(Strict):
    username: str = Field(min_length=2, max_length=100, pattern=r"^[A-Za-z0-9_.@-]+$")
    password: str = Field(min_length=10, max_length=1024, description="at least 10 characters")
    role: Literal["admin", "reader"] = "reader"


class UserOut(Out):
    user_id: int
    username: str
    role: str
    active: bool
    created_at: datetime
    last_login_at: datetime | None = None


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=100)
    password: str = Field(min_length=1, max_length=1024)


class Principal(Out):
    """Who is calling: an API key or a logged-in person."""

    kind: Literal["key", "user"]
    id: str
    role: Role
    site_id: str | None = None
    name: str | None = None
