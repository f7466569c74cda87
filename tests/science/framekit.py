"""Synthetic frames with known truth for the reduction tests and benchmark."""

from __future__ import annotations

from typing import Any

import numpy as np

from datas_core.science import synthetic
from datas_core.science.frame_io import write_fits

__all__ = ["frame_header", "render_field", "write_fits"]


def frame_header(
    camera: synthetic.Camera,
    ra: float,
    dec: float,
    *,
    seconds: float,
    wcs: bool = True,
    **extra: Any,
) -> dict[str, Any]:
    header: dict[str, Any] = dict(synthetic.wcs_header(camera, ra, dec)) if wcs else {}
    header.update(
        {
            "DATE-OBS": "2026-11-23T21:00:00.000",
            "EXPTIME": seconds,
            "FILTER": "V",
            "GAIN": camera.gain,
            "RDNOISE": camera.read_noise_e,
            "SATURATE": 65535,
        }
    )
    header.update(extra)
    return header


def render_field(
    camera: synthetic.Camera,
    ra: float,
    dec: float,
    *,
    seconds: float = 30.0,
    transmission: float = 1.0,
    seed: int = 0,
    extra_stars: synthetic.Stars | None = None,
    stars: synthetic.Stars | None = None,
) -> tuple[np.ndarray, synthetic.Stars]:
    truth = stars or synthetic.sky_catalog(ra, dec, synthetic.field_radius_deg(camera))
    shown = truth
    if extra_stars is not None:
        shown = synthetic.Stars(
            np.concatenate([truth.ra_deg, extra_stars.ra_deg]),
            np.concatenate([truth.dec_deg, extra_stars.dec_deg]),
            np.concatenate([truth.mag, extra_stars.mag]),
        )
    wcs = synthetic.wcs_header(camera, ra, dec)
    image = synthetic.render(camera, wcs, shown, seconds, transmission=transmission, seed=seed)
    return image, truth
