"""Local photometry of each frame, with the server pipeline's own code (datas_core.science):
the observation goes up with a measured flux and, when a reference catalog is configured, a
calibrated magnitude, zero point, comparison stars and quality flags."""

from __future__ import annotations

import logging
import math
from typing import Any

from datas_core.science.catalogs import CatalogError, ReferenceCatalog, open_catalog
from datas_core.science.frame_io import FrameRejected
from datas_core.science.reduce import PIPELINE_VERSION, ReductionOptions, reduce_frame
from site_agent.devices.base import Frame

log = logging.getLogger(__name__)


class LocalPhotometry:
    def __init__(self, catalog: str | None, band: str | None = None, solve: str = "never") -> None:
        self.band = band
        self.solve = solve
        self.catalog: ReferenceCatalog | None = None
        if catalog and catalog != "none":
            try:
                self.catalog = open_catalog(catalog)
            except CatalogError as exc:
                log.warning("local photometry without calibration: %s", exc)

    def measure(self, frame: Frame, ra_deg: float, dec_deg: float) -> dict[str, Any]:
        """Observation fields from the frame; never raises (a frame that cannot be measured is
        still an observation, flagged)."""
        options = ReductionOptions(
            catalog=self.catalog,
            band=self.band,
            target_ra_deg=ra_deg,
            target_dec_deg=dec_deg,
            solve=self.solve,  # type: ignore[arg-type]
        )
        try:
            result = reduce_frame(frame.data, options, header=dict(frame.header))
        except FrameRejected as exc:
            log.warning("local photometry: frame rejected (%s): %s", exc.reason, exc)
            return {"quality_flags": [f"local_{exc.reason}"], "method": "local-aperture"}
        except Exception as exc:  # photometry must never stop observing
            log.exception("local photometry failed")
            return {
                "quality_flags": [f"local_error:{type(exc).__name__}"],
                "method": "local-aperture",
            }
        target = result.target
        fields: dict[str, Any] = {
            "method": "local-aperture",
            "quality_flags": list(result.flags),
            "pipeline_version": PIPELINE_VERSION,
            "seeing_arcsec": _finite(result.fwhm_arcsec),
        }
        if result.zero_point is not None:
            fields["zero_point"] = round(result.zero_point.value, 4)
            fields["reference_catalog"] = f"{result.catalog_name}@{result.catalog_version}"
        if target is not None:
            fields["flux"] = _finite(target.flux)
            fields["flux_err"] = _finite(target.flux_err)
            fields["magnitude"] = _finite(target.magnitude)
            fields["mag_error"] = _finite(target.mag_error)
            if target.differential is not None:
                fields["comparison_stars"] = target.differential.comparison_ids
        return {k: v for k, v in fields.items() if v is not None}


def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), 6)
