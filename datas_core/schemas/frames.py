"""Frames on the wire: an uploaded file, its reduction status and results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from datas_core.schemas.common import Out


class FrameOut(Out):
    frame_id: str
    site_id: str
    target_id: int | None = None
    observation_id: str | None = None
    filename: str
    sha256: str
    size_bytes: int
    status: str
    error: str | None = None
    observed_at: datetime | None = None
    uploaded_at: datetime
    header: dict[str, Any] = {}
    results: dict[str, Any] | None = None
    attempts: int = 0
    reduced_at: datetime | None = None
    duplicate: bool = False
