"""Frames on the wire: an uploaded file, its reduction status and results."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from datas_core.schemas.common import MAX_DB_INT, DbId, Out, Strict


class FrameUploadFields(Strict):
    """The form fields sent with a frame (multipart/form-data, beside the `file` part)."""

    site_id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{1,63}$", description="the site's id")
    observation_id: str | None = Field(None, min_length=1, max_length=36)
    target_id: DbId | None = None


# The request body as OpenAPI describes it (the route reads the form itself, after auth).
UPLOAD_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["file", "site_id"],
    "properties": {
        "file": {"type": "string", "format": "binary", "description": "the FITS file"},
        "site_id": {"type": "string", "pattern": "^[a-z0-9][a-z0-9_-]{1,63}$"},
        "observation_id": {"type": "string", "minLength": 1, "maxLength": 36},
        "target_id": {"type": "integer", "minimum": 1, "maximum": MAX_DB_INT},
    },
}


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
