"""Embedded HEALPix sky maps (LVK `igwn.gwalert`, gcn-schema `healpix_file`): kept as bytes.

Only the FITS headers are read (a few kilobytes, through astropy), to record the ordering
(NUNIQ = multi-order), the number of pixels and the order; the probability table is left to the
code that tiles the credible region.
"""

from __future__ import annotations

import base64
import binascii
import io
import warnings
from typing import Any

from datas_core.alerts.model import SkyMap

MAX_SKYMAP_BYTES = 32 * 1024 * 1024  # LVK multi-order maps are well under 1 MB


def embedded_skymap(encoded: Any, field: str, notes: list[str]) -> SkyMap | None:
    """A `SkyMap` from base64 FITS; a map that cannot be decoded is noted, not fatal.

    The alert is still worth having without its map (time, classification, retraction), so a
    broken map becomes a warning and `None`.
    """
    if not isinstance(encoded, str) or not encoded:
        return None
    if len(encoded) > MAX_SKYMAP_BYTES * 4 // 3 + 4:
        notes.append(f"{field} is larger than {MAX_SKYMAP_BYTES // 2**20} MB; not kept")
        return None
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        notes.append(f"{field} is not valid base64; not kept")
        return None
    return SkyMap(data=data, **fits_summary(data, field, notes))


def fits_summary(data: bytes, field: str, notes: list[str]) -> dict[str, Any]:
    """ORDERING, rows, MOCORDER and NSIDE from the first table header, when readable cheaply."""
    if not data.startswith(b"SIMPLE  ="):
        notes.append(f"{field} is not an uncompressed FITS file; header not read")
        return {}
    from astropy.io import fits

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # non-standard cards are common and harmless here
            with fits.open(io.BytesIO(data), lazy_load_hdus=True, memmap=False) as hdul:
                header = hdul[1].header if len(hdul) > 1 else hdul[0].header
                summary = {
                    "ordering": _text(header.get("ORDERING")),
                    "pixels": _int(header.get("NAXIS2")),
                    "max_order": _int(header.get("MOCORDER")),
                    "nside": _int(header.get("NSIDE")),
                }
    except Exception as exc:  # astropy raises many kinds for a damaged file
        notes.append(f"{field} FITS header unreadable ({type(exc).__name__}); bytes kept")
        return {}
    return summary


def _text(value: Any) -> str | None:
    return value.strip()[:32] if isinstance(value, str) and value.strip() else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
