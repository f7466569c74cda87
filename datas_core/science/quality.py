"""Quality flags of a reduced frame and its target measurement, with the limits that raise them.

Frame flags: saturation, seeing, tracking, clouds, bright_sky, astrometric_residual,
pointing_offset. Target flags: target_saturated, target_near_edge, target_blended,
target_not_detected, few_comparison_stars.
"""

from __future__ import annotations

from dataclasses import dataclass

FLAG_DESCRIPTIONS = {
    "saturation": "5% or more of the detected stars are saturated",
    "seeing": "the FWHM is above the limit (bad seeing or focus)",
    "tracking": "stars are elongated (tracking or wind shake)",
    "clouds": "the zero point dropped below the expected one (clouds, dew)",
    "bright_sky": "the sky is brighter than the limit (moon, twilight, light pollution)",
    "astrometric_residual": "the astrometric fit residual is above the limit",
    "pointing_offset": "the target is far from the frame centre",
    "target_saturated": "the target's peak reaches the saturation level",
    "target_near_edge": "the target's aperture is near or over the frame edge",
    "target_blended": "another source lies within the target's aperture",
    "target_not_detected": "the target is below 3 sigma (the magnitude is a limit)",
    "few_comparison_stars": "fewer than 3 comparison stars were usable",
}


@dataclass(frozen=True)
class QualityLimits:
    max_saturated_share: float = 0.05
    max_fwhm_arcsec: float = 6.0
    max_elongation: float = 1.4
    max_zero_point_drop: float = 0.25  # mag below the expected zero point
    brightest_sky_mag_arcsec2: float = 17.5
    max_astrometric_rms_arcsec: float = 1.5
    max_pointing_offset_share: float = 0.25  # of the frame's shorter side
    min_comparison_stars: int = 3


def frame_flags(
    limits: QualityLimits,
    *,
    saturated_share: float,
    fwhm_arcsec: float | None,
    elongation: float | None,
    zero_point: float | None,
    expected_zero_point: float | None,
    sky_mag_arcsec2: float | None,
    astrometric_rms_arcsec: float | None,
) -> list[str]:
    flags = []
    if saturated_share >= limits.max_saturated_share:
        flags.append("saturation")
    if fwhm_arcsec is not None and fwhm_arcsec > limits.max_fwhm_arcsec:
        flags.append("seeing")
    if elongation is not None and elongation > limits.max_elongation:
        flags.append("tracking")
    if (
        zero_point is not None
        and expected_zero_point is not None
        and zero_point < expected_zero_point - limits.max_zero_point_drop
    ):
        flags.append("clouds")
    if sky_mag_arcsec2 is not None and sky_mag_arcsec2 < limits.brightest_sky_mag_arcsec2:
        flags.append("bright_sky")
    if (
        astrometric_rms_arcsec is not None
        and astrometric_rms_arcsec > limits.max_astrometric_rms_arcsec
    ):
        flags.append("astrometric_residual")
    return flags
