"""Reading and validating a FITS frame: the image, its time, exposure and filter, or a clear reason.

Plain, gzipped and tile-compressed (fpack) FITS are read. A site may name its own header keywords
(`header_map`, e.g. {"exptime": "EXPOSURE"}); the usual alternatives are tried after it. A frame
larger than `max_pixels` is rejected `too_large` from its headers, before any data is read or
inflated (fits_guard).
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
from astropy.io import fits
from numpy.typing import NDArray

from datas_core.science import fits_guard

try:  # a corrupt fpack tile; astropy keeps the class in a private module
    from astropy.io.fits.hdu.compressed._compression import CfitsioException
except ImportError:  # pragma: no cover - another astropy layout

    class CfitsioException(Exception):  # type: ignore[no-redef]
        pass


KEYWORDS: dict[str, tuple[str, ...]] = {
    "date_obs": ("DATE-OBS", "DATE_OBS", "DATEOBS"),
    "exptime": ("EXPTIME", "EXPOSURE", "EXP_TIME", "ITIME"),
    "filter": ("FILTER", "FILTER1", "FILTNAME", "FILT"),
}
MAX_BAD_PIXEL_SHARE = 0.5


class FrameRejected(Exception):
    """The frame cannot be reduced; `reason` is a short code, the message says what to fix."""

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


@dataclass
class LoadedFrame:
    data: NDArray[np.float32]  # image in ADU, native byte order, C-contiguous
    mask: NDArray[np.bool_] | None  # True where a pixel is not finite
    header: dict[str, Any]
    observed_at: datetime  # start of the exposure, UTC
    exptime: float
    filter: str | None

    @property
    def mid_time(self) -> datetime:
        return self.observed_at + timedelta(seconds=self.exptime / 2)


def load_frame(
    source: str | Path | bytes | NDArray[Any],
    header: dict[str, Any] | None = None,
    *,
    header_map: dict[str, str] | None = None,
    require_filter: bool = False,
    max_pixels: int | None = None,
) -> LoadedFrame:
    """Read and check a frame from a path, FITS bytes, or an array with its header.

    `max_pixels` bounds all image HDUs together; by default DATAS_MAX_FRAME_PIXELS or 200 million.
    """
    limit = fits_guard.default_max_pixels() if max_pixels is None else max_pixels
    if isinstance(source, np.ndarray):
        if source.size > limit:
            refused = fits_guard.too_many_pixels("the image", source.size, limit)
            raise FrameRejected(refused.reason, str(refused))
        data, cards = source, dict(header or {})
    else:
        data, cards = _read_fits(source, limit)
    return _validate(data, cards, header_map or {}, require_filter)


def _read_fits(source: str | Path | bytes, max_pixels: int) -> tuple[NDArray[Any], dict[str, Any]]:
    name = "the upload" if isinstance(source, bytes) else Path(source).name
    try:
        # Our own file handle: closed even when astropy gives up half-way through a bad file.
        opened = io.BytesIO(source) if isinstance(source, bytes) else open(source, "rb")  # noqa: SIM115
    except OSError as exc:
        raise FrameRejected("unreadable", f"cannot open {name}: {exc.strerror}") from exc
    try:
        with opened, warnings.catch_warnings():
            # Truncated or odd files announce themselves as warnings: treat them as errors.
            warnings.simplefilter("error")
            # Sizes checked from the headers first: astropy allocates whatever they declare.
            checked = fits_guard.open_checked(opened, name, max_pixels)
            with fits.open(checked, memmap=False, lazy_load_hdus=False) as hdus:
                for hdu in hdus:
                    if hdu.is_image and hdu.header.get("NAXIS", 0) >= 2 and hdu.data is not None:
                        return np.asarray(hdu.data), _cards(hdu.header, hdus[0].header)
    except fits_guard.Refused as exc:
        raise FrameRejected(exc.reason, str(exc)) from exc
    except (
        OSError,
        ValueError,
        TypeError,
        IndexError,
        EOFError,
        Warning,
        CfitsioException,
    ) as exc:
        text = str(exc).lower()
        reason = "truncated" if ("truncat" in text or "too small" in text) else "not_fits"
        raise FrameRejected(
            reason,
            f"{name} could not be read as FITS ({type(exc).__name__}: {exc}); upload the "
            "camera's FITS file (plain, gzip or fpack) as written",
        ) from exc
    raise FrameRejected(
        "no_image", f"{name} holds no 2-D image (only tables or empty HDUs); upload a CCD frame"
    )


def _cards(header: fits.Header, primary: fits.Header) -> dict[str, Any]:
    cards: dict[str, Any] = {}
    for source in (primary, header):  # the image HDU's own cards win
        for key, value in source.items():
            if key and key not in ("COMMENT", "HISTORY") and not isinstance(value, bytes):
                cards[key] = value
    return cards


def _validate(
    data: NDArray[Any], cards: dict[str, Any], header_map: dict[str, str], require_filter: bool
) -> LoadedFrame:
    if data.ndim == 3 and data.shape[0] == 1:
        data = data[0]
    if data.ndim != 2 or min(data.shape) < 16:
        raise FrameRejected(
            "bad_shape",
            f"the image has shape {data.shape}; a 2-D frame of at least 16x16 is needed",
        )
    if data.dtype.kind not in "uif":
        raise FrameRejected(
            "bad_bitpix", f"pixel type {data.dtype} is not an image type (BITPIX 8/16/32/-32/-64)"
        )
    image = np.ascontiguousarray(data, dtype=np.float32)
    finite = np.isfinite(image)
    bad_share = 1.0 - float(finite.mean())
    if bad_share > MAX_BAD_PIXEL_SHARE:
        raise FrameRejected(
            "bad_pixels",
            f"{bad_share:.0%} of the pixels are NaN or infinite; the frame is unusable",
        )
    mask = None
    if bad_share > 0:
        mask = ~finite
        image[mask] = float(np.median(image[finite]))
    low, high = np.percentile(image[:: max(1, image.shape[0] // 256)], [1, 99.9])
    if high - low <= 0:
        raise FrameRejected(
            "empty", f"every pixel reads {low:g}: the camera returned an empty frame"
        )
    observed_at = _date_obs(cards, header_map)
    exptime = _exptime(cards, header_map)
    filt = _lookup(cards, "filter", header_map)
    if require_filter and not filt:
        raise FrameRejected(
            "no_filter",
            "the header has no FILTER card; add it, or map the site's keyword in its header_map",
        )
    return LoadedFrame(
        data=image,
        mask=mask,
        header=cards,
        observed_at=observed_at,
        exptime=exptime,
        filter=str(filt).strip() if filt else None,
    )


def _lookup(cards: dict[str, Any], field: str, header_map: dict[str, str]) -> Any:
    names = ((header_map[field],) if field in header_map else ()) + KEYWORDS[field]
    for name in names:
        value = cards.get(name)
        if value not in (None, ""):
            return value
    return None


def _date_obs(cards: dict[str, Any], header_map: dict[str, str]) -> datetime:
    value = _lookup(cards, "date_obs", header_map)
    text = str(value).strip() if value is not None else ""
    if text and "T" not in text and cards.get("TIME-OBS"):
        text = f"{text}T{str(cards['TIME-OBS']).strip()}"
    when: datetime | None = None
    if text:
        try:
            when = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            when = None
    if when is None and isinstance(cards.get("MJD-OBS"), (int, float)):
        when = datetime(1858, 11, 17, tzinfo=timezone.utc) + timedelta(days=cards["MJD-OBS"])
    if when is None:
        raise FrameRejected(
            "no_time",
            f"no usable observation time (DATE-OBS={value!r}); write DATE-OBS as ISO 8601 UTC, "
            "e.g. 2026-11-23T21:04:05.123",
        )
    return when if when.tzinfo else when.replace(tzinfo=timezone.utc)


def _exptime(cards: dict[str, Any], header_map: dict[str, str]) -> float:
    value = _lookup(cards, "exptime", header_map)
    try:
        seconds = float(value)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not np.isfinite(seconds) or seconds <= 0:
        raise FrameRejected(
            "no_exposure",
            f"no usable exposure time (EXPTIME={value!r}); write EXPTIME in seconds (> 0)",
        )
    return seconds


def fits_hdu(data: NDArray[Any], header: dict[str, Any]) -> fits.PrimaryHDU:
    hdu = fits.PrimaryHDU(data)
    for key, value in header.items():
        hdu.header[key] = value
    return hdu


def fits_bytes(data: NDArray[Any], header: dict[str, Any]) -> bytes:
    """A frame as the bytes of a FITS file (what a camera driver would write)."""
    buffer = io.BytesIO()
    fits_hdu(data, header).writeto(buffer)
    return buffer.getvalue()


def write_fits(path: Path, data: NDArray[Any], header: dict[str, Any]) -> Path:
    fits_hdu(data, header).writeto(path, overwrite=True)
    return path
