"""FITS frame uploads and their reduction status."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Request, Response, UploadFile, status
from starlette.concurrency import run_in_threadpool

from datas_api.deps import Reader, SessionDep, SiteWriter, site_scope
from datas_core.schemas.frames import FrameOut
from datas_core.services import frames

router = APIRouter(prefix="/api/v1/frames", tags=["frames"])


@router.post(
    "",
    response_model=FrameOut,
    status_code=status.HTTP_201_CREATED,
    summary="Upload a FITS frame (plain, tile-compressed or gzipped); 200 if already stored",
)
async def upload_frame(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: SiteWriter,
    file: Annotated[UploadFile, File(description="the FITS file")],
    site_id: Annotated[str, Form(max_length=64)],
    observation_id: Annotated[str | None, Form(max_length=36)] = None,
    target_id: Annotated[int | None, Form(ge=1)] = None,
) -> Any:
    settings = request.app.state.settings

    def store() -> Any:
        frame, created = frames.ingest_frame(
            session,
            request.app.state.object_store,
            site_id=site_id,
            filename=file.filename or "frame.fits",
            source=file.file,
            max_bytes=settings.max_frame_bytes,
            writer_site_id=site_scope(principal),
            observation_id=observation_id,
            target_id=target_id,
        )
        session.commit()
        return frame, created

    frame, created = await run_in_threadpool(store)
    if not created:
        response.status_code = status.HTTP_200_OK
    return FrameOut.model_validate(frame).model_copy(update={"duplicate": not created})


@router.get("/{frame_id}", response_model=FrameOut)
def get_frame(frame_id: str, session: SessionDep, _: Reader) -> Any:
    return frames.get_frame(session, frame_id)
