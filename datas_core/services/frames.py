"""Frame uploads: streamed to the object store with a SHA-256, recognised when re-uploaded."""

from __future__ import annotations

import hashlib
import uuid
import zlib
from datetime import datetime, timezone
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from datas_core.db.models import Frame, Site
from datas_core.errors import Forbidden, InvalidInput, NotFound, TooLarge
from datas_core.storage.base import Store

CHUNK = 1024 * 1024
FITS_BLOCK = 2880


class FrameTooLarge(TooLarge):
    """The upload is larger than DATAS_MAX_FRAME_BYTES."""


def ingest_frame(
    session: Session,
    store: Store,
    *,
    site_id: str,
    filename: str,
    source: IO[bytes],
    max_bytes: int,
    writer_site_id: str | None = None,
    observation_id: str | None = None,
    target_id: int | None = None,
) -> tuple[Frame, bool]:
    """Store one uploaded file; returns (frame, created). Nothing is kept for a bad upload."""
    if writer_site_id is not None and writer_site_id != site_id:
        raise Forbidden(f"this key may only upload frames for site {writer_site_id!r}")
    if session.get(Site, site_id) is None:
        raise NotFound(f"site {site_id!r} does not exist; see GET /api/v1/sites")
    digest = hashlib.sha256()
    size = 0
    head = b""
    out, temp = store.incoming()
    try:
        with out:
            while chunk := source.read(CHUNK):
                size += len(chunk)
                if size > max_bytes:
                    raise FrameTooLarge(
                        f"the frame exceeds {max_bytes} bytes; compress it (fpack, gzip) or "
                        "raise DATAS_MAX_FRAME_BYTES on the server"
                    )
                if len(head) < 4 * FITS_BLOCK:
                    head += chunk[: 4 * FITS_BLOCK - len(head)]
                digest.update(chunk)
                out.write(chunk)
        header = _fits_header(head, filename)
        sha = digest.hexdigest()
        existing = session.scalar(
            select(Frame).where(Frame.site_id == site_id, Frame.sha256 == sha)
        )
        if existing is not None:
            temp.unlink(missing_ok=True)
            return existing, False
        now = datetime.now(timezone.utc)
        suffix = ".fits.gz" if head[:2] == b"\x1f\x8b" else ".fits"
        key = f"frames/{site_id}/{now:%Y/%m/%d}/{sha}{suffix}"
        store.commit(temp, key)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise
    frame = Frame(
        frame_id=str(uuid.uuid4()),
        site_id=site_id,
        target_id=target_id,
        observation_id=observation_id,
        filename=Path(filename).name[:255] or "frame.fits",
        storage_key=key,
        sha256=sha,
        size_bytes=size,
        status="received",
        header=header,
        observed_at=_date_obs(header),
        uploaded_at=now,
    )
    session.add(frame)
    session.flush()
    return frame, True


def _fits_header(head: bytes, filename: str) -> dict[str, Any]:
    """The primary header's cards, or a clear rejection for anything that is not FITS."""
    data = head
    if head[:2] == b"\x1f\x8b":  # gzip: the start of the decompressed stream is enough
        try:
            data = zlib.decompressobj(wbits=31).decompress(head, 4 * FITS_BLOCK)
        except zlib.error:
            data = b""
    if not data.startswith(b"SIMPLE  =") or len(data) < FITS_BLOCK:
        raise InvalidInput(
            f"{filename!r} is not a FITS file (it must start with a SIMPLE card; plain, "
            "tile-compressed or gzipped FITS are accepted)"
        )
    cards: dict[str, Any] = {}
    for i in range(0, min(len(data), 4 * FITS_BLOCK), 80):
        card = data[i : i + 80].decode("ascii", errors="replace")
        key = card[:8].strip()
        if key == "END":
            break
        if card[8:10] == "= " and key:
            value = card[10:].split(" /")[0].strip()
            cards[key] = value.strip("'").strip() if value.startswith("'") else value
    return cards


def _date_obs(header: dict[str, Any]) -> datetime | None:
    value = header.get("DATE-OBS")
    if not value:
        return None
    try:
        when = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def get_frame(session: Session, frame_id: str) -> Frame:
    frame = session.get(Frame, frame_id)
    if frame is None:
        raise NotFound(f"frame {frame_id!r} does not exist")
    return frame
