"""FITS frame uploads and their reduction status."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response, status
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from datas_api.deps import Reader, SessionDep, SiteWriter, site_scope
from datas_api.errors import describe_validation
from datas_core.errors import Forbidden, InvalidInput
from datas_core.schemas.frames import UPLOAD_SCHEMA, FrameOut, FrameUploadFields
from datas_core.services import frames

router = APIRouter(prefix="/api/v1/frames", tags=["frames"])
FORM_FIELDS = ("site_id", "observation_id", "target_id")


@router.post(
    "",
    response_model=FrameOut,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a FITS frame (plain, tile-compressed or gzipped); 200 if already stored",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"multipart/form-data": {"schema": UPLOAD_SCHEMA}},
        }
    },
)
async def upload_frame(
    request: Request, response: Response, session: SessionDep, principal: SiteWriter
) -> Any:
    # No body parameters: FastAPI would read (and spool) the whole upload before the key is
    # checked. Here the caller is known first, and only then is the body read.
    settings = request.app.state.settings
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        raise InvalidInput(
            "send the frame as multipart/form-data with a 'file' part and a 'site_id' field"
        )
    async with request.form(max_files=1, max_fields=len(FORM_FIELDS)) as form:
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise InvalidInput("the form has no 'file' part holding the FITS file")
        fields = _fields(form)
        scope = site_scope(principal)
        if scope is not None and scope != fields.site_id:
            raise Forbidden(f"this key may only upload frames for site {scope!r}")

        def store() -> Any:
            frame, created = frames.ingest_frame(
                session,
                request.app.state.object_store,
                site_id=fields.site_id,
                filename=upload.filename or "frame.fits",
                source=upload.file,
                max_bytes=settings.max_frame_bytes,
                writer_site_id=scope,
                observation_id=fields.observation_id,
                target_id=fields.target_id,
            )
            session.commit()
            return frame, created

        frame, created = await run_in_threadpool(store)
    if not created:
        response.status_code = status.HTTP_200_OK
    return FrameOut.model_validate(frame).model_copy(update={"duplicate": not created})


def _fields(form: Any) -> FrameUploadFields:
    unknown = sorted(set(form.keys()) - {"file", *FORM_FIELDS})
    if unknown:
        raise InvalidInput(f"unknown form field(s): {', '.join(unknown)}; send {FORM_FIELDS}")
    values = {name: form.get(name) for name in FORM_FIELDS if form.get(name) not in (None, "")}
    if any(not isinstance(v, str) for v in values.values()):
        raise InvalidInput("site_id, observation_id and target_id are plain form fields")
    try:
        return FrameUploadFields.model_validate(values)
    except ValidationError as exc:
        message, details = describe_validation(list(exc.errors()))
        raise InvalidInput(message, details) from exc


@router.get("/{frame_id}", response_model=FrameOut)
def get_frame(frame_id: str, session: SessionDep, _: Reader) -> Any:
    return frames.get_frame(session, frame_id)
