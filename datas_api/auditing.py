"""Who called and from where, for login throttling and the audit log of admin writes."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from datas_api.deps import Admin
from datas_core.services.audit import Actor


def client_address(request: Request) -> str:
    """The peer address as uvicorn reports it (X-Forwarded-For only from trusted proxies)."""
    return request.client.host if request.client else "unknown"


@dataclass(frozen=True)
class AdminCall:
    actor: Actor
    source: str


async def admin_call(request: Request, principal: Admin) -> AdminCall:
    return AdminCall(Actor.of(principal), client_address(request))


AuditedAdmin = Annotated[AdminCall, Depends(admin_call)]
