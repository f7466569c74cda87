"""The reduction against truth: simulated frames with stars of known magnitude, a variable of
known period, clouds, a wrong header WCS; and astrometry.net on simulated and real frames."""

from __future__ import annotations

import math
import os
import shutil

import numpy as np
from astropy.io import fits
from astropy.timeseries import LombScargle
from astropy.wcs import WCS

from datas_core.science import catalogs, synthetic, tan
from datas_core.science.reduce import ReductionOptions, reduce_frame
from tests.conftest import missing_system_part
from tests.science.framekit import frame_header, render_field

CAMERA = synthetic.Camera(width=1024, height=1024)


def _grid_error_arcsec(true_wcs: dict, fitted_wcs: dict, shape: tuple[int, int]) -> float:
    ys, xs = np.meshgrid(np.linspace(0, shape[0] - 1, 11), np.linspace(0, shape[1] - 1, 11))
    ra1, dec1 = tan.pixel_to_sky(true_wcs, xs.ravel(), ys.ravel())
    ra2, dec2 = tan.pixel_to_sky(fitted_wcs, xs.ravel(), ys.ravel())
    dra = ((ra1 - ra2 + 180) % 360 - 180) * np.cos(np.radians(dec1))
    return float(np.max(np.hypot(dra, dec1 - dec2)) * 3600)


def test_calibrated_magnitudes_agree_with_truth_within_their_errors() -> None:
    catalog = catalogs.SyntheticCatalog()
    residuals, normalized, snrs = [], [], []
    for i, (ra, dec) in enumerate([(120.0, 20.0), (45.0, -30.0), (300.0, 5.0), (200.0, 60.0)]):
        image, _ = render_field(CAMERA, ra, dec, seed=i)
        result = reduce_frame(
            image,
            ReductionOptions(catalog=catalog),
            header=frame_header(CAMERA, ra, dec, seconds=30.0),
        )
        stars = catalog.query(ra, dec, synthetic.field_radius_deg(CAMERA) * 1.5)
        measured = result.calibrated_stars()
        by_id = dict(zip(stars.ids, stars.mags["V"], strict=True))
        true_mag = np.array([by_id[i] for i in result.calibration_ids])
        residuals.append(measured["magnitude"] - true_mag)
        normalized.append((measured["magnitude"] - true_mag) / measured["mag_error"])
        snrs.append(measured["snr"])
    res, norm, snr = map(np.concatenate, (residuals, normalized, snrs))
    assert len(res) > 400
    std = float(np.std(norm))
    bias = float(np.median(res[snr > 50]))
    print(f"stars={len(res)} normalized std={std:.3f} bias(SNR>50)={bias:+.4f} mag")
    assert 0.8 <= std <= 1.2
    assert abs(bias) < 0.01


def test_variable_star_amplitude_and_period_are_recovered() -> None:
    camera = synthetic.Camera(width=512, height=512)
    ra, dec = 75.0, 15.0
    target_ra, target_dec = 75.01, 15.005
    period, amplitude, mean = 0.6137, 0.25, 13.0
    rng = np.random.default_rng(7)
    times = np.sort(rng.uniform(0, 6.0, 36))
    measured, errors = [], []
    for k, t in enumerate(times):
        mag = mean + amplitude * math.sin(2 * math.pi * t / period)
        extra = synthetic.Stars(np.array([target_ra]), np.array([target_dec]), np.array([mag]))
        image, _ = render_field(camera, ra, dec, seed=100 + k, extra_stars=extra)
        result = reduce_frame(
            image,
            ReductionOptions(
                catalog=catalogs.SyntheticCatalog(),
                target_ra_deg=target_ra,
                target_dec_deg=target_dec,
            ),
            header=frame_header(camera, ra, dec, seconds=30.0),
        )
        assert result.target is not None and result.target.differential is not None
        measured.append(result.target.differential.magnitude)
        errors.append(result.target.differential.error)
    y, dy = np.array(measured), np.array(errors)
    frequency, power = LombScargle(times, y, dy).autopower(
        minimum_frequency=0.2, maximum_frequency=5, samples_per_peak=50
    )
    best = 1 / frequency[np.argmax(power)]
    design = np.column_stack(
        [np.ones_like(times), np.sin(2 * np.pi * times / best), np.cos(2 * np.pi * times / best)]
    )
    coef, *_ = np.linalg.lstsq(design / dy[:, None], y / dy, rcond=None)
    fitted_amplitude = math.hypot(coef[1], coef[2])
    print(
        f"period {best:.4f} d (true {period}), amplitude {fitted_amplitude:.4f} "
        f"(true {amplitude}), mean {coef[0]:.4f}"
    )
    assert abs(best - period) / period < 0.01
    assert abs(fitted_amplitude - amplitude) < 0.01
    assert abs(coef[0] - mean) < 0.01


def test_cloud_loss_is_flagged_and_the_zero_point_drops_by_the_loss() -> None:
    ra, dec = 120.0, 20.0
    header = frame_header(CAMERA, ra, dec, seconds=30.0)
    catalog = catalogs.SyntheticCatalog()
    clear_image, _ = render_field(CAMERA, ra, dec, seed=1)
    clear = reduce_frame(clear_image, ReductionOptions(catalog=catalog), header=header)
    assert clear.zero_point is not None
    cloudy_image, _ = render_field(CAMERA, ra, dec, seed=2, transmission=0.6)
    cloudy = reduce_frame(
        cloudy_image,
        ReductionOptions(catalog=catalog, expected_zero_point=clear.zero_point.value),
        header=header,
    )
    assert cloudy.zero_point is not None
    drop = clear.zero_point.value - cloudy.zero_point.value
    expected = -2.5 * math.log10(0.6)
    error = math.hypot(clear.zero_point.error, cloudy.zero_point.error)
    print(f"zero point drop {drop:.4f} mag, expected {expected:.4f} +- {error:.4f}")
    assert abs(drop - expected) < max(3 * error, 0.01)
    assert "clouds" in cloudy.flags and "clouds" not in clear.flags


def test_a_wrong_header_wcs_is_refitted_to_the_truth() -> None:
    ra, dec = 120.0, 20.0
    image, _ = render_field(CAMERA, ra, dec, seed=3)
    truth = synthetic.wcs_header(CAMERA, ra, dec)
    wrong_camera = synthetic.Camera(
        width=1024, height=1024, rotation_deg=0.4, pixel_scale_arcsec=1.503
    )
    wrong = synthetic.wcs_header(wrong_camera, ra + 40 / 3600, dec - 25 / 3600)
    header = frame_header(CAMERA, ra, dec, seconds=30.0, wcs=False, **wrong)
    result = reduce_frame(
        image, ReductionOptions(catalog=catalogs.SyntheticCatalog(), solve="never"), header=header
    )
    assert result.astrometry is not None and result.astrometry.method == "header+refit"
    error = _grid_error_arcsec(truth, result.astrometry.wcs, image.shape)
    print(
        f'header off by {result.astrometry.correction_arcsec:.1f}"; refit max error {error:.3f}", '
        f'rms {result.astrometry.rms_arcsec:.3f}"'
    )
    assert result.astrometry.correction_arcsec > 30
    assert error < 0.5


def _need_astrometry_net() -> catalogs.TychoIndexCatalog:
    if shutil.which("solve-field") is None:
        missing_system_part("solve-field: apt install astrometry.net astrometry-data-tycho2")
    try:
        return catalogs.TychoIndexCatalog()
    except catalogs.CatalogError as exc:
        missing_system_part(str(exc))
        raise


def test_solve_field_recovers_the_true_wcs_of_a_frame_without_one() -> None:
    tycho = _need_astrometry_net()
    camera = synthetic.Camera(width=2048, height=2048, fwhm_px=3.0, rotation_deg=17.0)
    ra, dec = 120.0, 20.0
    real = tycho.query(ra, dec, synthetic.field_radius_deg(camera))
    stars = synthetic.Stars(real.ra_deg, real.dec_deg, real.mags["VT"])
    image, _ = render_field(camera, ra, dec, seconds=1.0, stars=stars, seed=4)
    header = frame_header(camera, ra, dec, seconds=1.0, wcs=False)
    result = reduce_frame(
        image,
        ReductionOptions(catalog=tycho, pixel_scale_arcsec=1.5, solve_cpu_seconds=30),
        header=header,
    )
    assert result.astrometry is not None and result.astrometry.method == "solve-field"
    error = _grid_error_arcsec(
        synthetic.wcs_header(camera, ra, dec), result.astrometry.wcs, image.shape
    )
    print(
        f'{len(stars)} Tycho-2 stars; solve-field + refit: max error {error:.3f}", '
        f'rms {result.astrometry.rms_arcsec:.3f}" over {result.astrometry.n_matches}'
    )
    assert error < 0.5


def test_real_frame_from_astroquery_matches_its_reference_solution() -> None:
    tycho = _need_astrometry_net()
    import astroquery

    data = os.path.join(os.path.dirname(astroquery.__file__), "astrometry_net", "tests", "data")
    frame = os.path.join(data, "thumbnail-image.fit.gz")
    result = reduce_frame(frame, ReductionOptions(catalog=tycho, pixel_scale_arcsec=9.0))
    assert result.astrometry is not None and result.astrometry.method == "solve-field"
    with fits.open(os.path.join(data, "wcs-sol-from-thumbnail-image-index-5200.fit")) as hdus:
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            reference = WCS(hdus[0].header)
    xs, ys = np.meshgrid(np.linspace(0, 255, 9), np.linspace(0, 255, 9))
    ra_ref, dec_ref = reference.all_pix2world(xs.ravel(), ys.ravel(), 0)
    ra, dec = tan.pixel_to_sky(result.astrometry.wcs, xs.ravel(), ys.ravel())
    error = float(
        np.max(np.hypot((ra - ra_ref) * np.cos(np.radians(dec_ref)), dec - dec_ref)) * 3600
    )
    print(
        f"real frame: {len(result.sources)} sources, max difference to the reference "
        f'{error:.2f}" (9" pixels), stale header moved {result.astrometry.correction_arcsec:.0f}"'
    )
    # the reference has SIP distortion terms, ours is linear: agree to a third of a pixel
    assert error < 3.0
    assert result.astrometry.correction_arcsec > 600  # the header WCS was stale
