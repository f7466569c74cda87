"""Bounded path and query parameters: a value the database cannot hold is a 422, never a 500."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from datas_core.schemas.common import MAX_DB_INT, UtcTime

IdPath = Annotated[int, Path(ge=1, le=MAX_DB_INT, description="a database id")]
IdQuery = Annotated[int | None, Query(ge=1, le=MAX_DB_INT)]
OffsetQuery = Annotated[int, Query(ge=0, le=MAX_DB_INT, description="items to skip")]
AfterQuery = Annotated[UtcTime | None, Query(description="inclusive, ISO 8601 with a timezone")]
BeforeQuery = Annotated[UtcTime | None, Query(description="exclusive, ISO 8601 with a timezone")]
