"""Frames that cannot be reduced are rejected with a reason code and a message saying why."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import numpy as np
import pytest
from astropy.io import fits
from click.testing import CliRunner

from datas_cli.main import cli
from datas_core.science import catalogs, synthetic
from datas_core.science.frame_io import FrameRejected, load_frame
from datas_core.science.reduce import ReductionOptions, reduce_frame
from tests.science.framekit import frame_header, render_field, write_fits

CAMERA = synthetic.Camera(width=512, height=512)


@pytest.fixture(scope="module")
def good_frame(tmp_path_factory: pytest.TempPathFactory) -> Path:
    image, _ = render_field(CAMERA, 120.0, 20.0, seed=5)
    path = tmp_path_factory.mktemp("frames") / "good.fits"
    return write_fits(path, image, frame_header(CAMERA, 120.0, 20.0, seconds=30.0))


def _reason(source, **kwargs) -> tuple[str, str]:
    with pytest.raises(FrameRejected) as caught:
        reduce_frame(source, ReductionOptions(catalog=catalogs.SyntheticCatalog(), **kwargs))
    return caught.value.reason, str(caught.value)


def test_not_fits_truncated_and_table_only_files_are_rejected(
    good_frame: Path, tmp_path: Path
) -> None:
    assert _reason(b"this is a JPEG, honest")[0] == "not_fits"
    truncated = tmp_path / "truncated.fits"
    truncated.write_bytes(good_frame.read_bytes()[: 2880 * 20])
    reason, message = _reason(truncated)
    assert reason in ("truncated", "not_fits") and "truncated.fits" in message
    table = tmp_path / "table.fits"
    fits.HDUList(
        [
            fits.PrimaryHDU(),
            fits.BinTableHDU.from_columns([fits.Column("A", "E", array=np.ones(3))]),
        ]
    ).writeto(table)
    assert _reason(table)[0] == "no_image"


def test_gzipped_and_tile_compressed_frames_are_read(good_frame: Path, tmp_path: Path) -> None:
    packed = tmp_path / "good.fits.gz"
    packed.write_bytes(gzip.compress(good_frame.read_bytes()))
    assert load_frame(packed).exptime == 30.0
    with fits.open(good_frame) as hdus:
        data, header = hdus[0].data, hdus[0].header
        tiled = tmp_path / "good.fits.fz"
        fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(data, header)]).writeto(tiled)
    frame = load_frame(tiled)
    assert frame.exptime == 30.0 and np.array_equal(frame.data, data.astype(np.float32))


@pytest.mark.parametrize(
    ("change", "reason", "hint"),
    [
        ({"DATE-OBS": None}, "no_time", "DATE-OBS"),
        ({"DATE-OBS": "yesterday"}, "no_time", "ISO 8601"),
        ({"EXPTIME": None}, "no_exposure", "EXPTIME"),
        ({"EXPTIME": -1}, "no_exposure", "EXPTIME"),
    ],
)
def test_missing_time_or_exposure(good_frame: Path, change: dict, reason: str, hint: str) -> None:
    with fits.open(good_frame) as hdus:
        data, header = hdus[0].data, dict(hdus[0].header)
    for key, value in change.items():
        header.pop(key) if value is None else header.__setitem__(key, value)
    got, message = _reason_array(data, header)
    assert got == reason and hint in message


def _reason_array(data: np.ndarray, header: dict) -> tuple[str, str]:
    with pytest.raises(FrameRejected) as caught:
        reduce_frame(data, ReductionOptions(catalog=catalogs.SyntheticCatalog()), header=header)
    return caught.value.reason, str(caught.value)


def test_empty_sky_nan_and_constant_frames(good_frame: Path) -> None:
    header = frame_header(CAMERA, 120.0, 20.0, seconds=30.0)
    sky = synthetic.render(
        CAMERA,
        synthetic.wcs_header(CAMERA, 120, 20),
        synthetic.Stars(np.zeros(0), np.zeros(0), np.zeros(0)),
        30.0,
    )
    assert _reason_array(sky, header)[0] == "no_stars"
    assert _reason_array(np.full((64, 64), np.nan), header)[0] == "bad_pixels"
    assert _reason_array(np.zeros((64, 64), dtype=np.uint16), header)[0] == "empty"
    assert _reason_array(np.zeros(64), header)[0] == "bad_shape"


def test_a_frame_pointing_elsewhere_than_its_target(good_frame: Path) -> None:
    reason, message = _reason(good_frame, target_ra_deg=150.0, target_dec_deg=-10.0)
    assert reason == "target_outside" and "deg from the target" in message


def test_cli_reduce_prints_json_with_sources_wcs_zero_point_and_target(
    good_frame: Path, tmp_path: Path
) -> None:
    stars = synthetic.sky_catalog(120.0, 20.0, 0.3)
    catalog = tmp_path / "field.csv"
    rows = ["id,ra_deg,dec_deg,V"] + [
        f"{i},{r:.7f},{d:.7f},{m:.4f}"
        for i, r, d, m in zip(stars.ids, stars.ra_deg, stars.dec_deg, stars.mag, strict=True)
    ]
    catalog.write_text("\n".join(rows) + "\n")
    bright = int(
        np.argmin(
            np.where(
                np.hypot(stars.ra_deg - 120.0, stars.dec_deg - 20.0) < 0.05,
                np.abs(stars.mag - 13),
                99,
            )
        )
    )
    result = CliRunner().invoke(
        cli,
        [
            "frames",
            "reduce",
            str(good_frame),
            "--catalog",
            str(catalog),
            "--target-ra",
            str(stars.ra_deg[bright]),
            "--target-dec",
            str(stars.dec_deg[bright]),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert {"x", "y", "flux", "flux_err"} <= set(data["sources"][0])
    assert data["wcs"]["method"] == "header+refit" and data["wcs"]["rms_arcsec"] < 0.5
    assert data["zero_point"]["n_used"] > 20
    assert (
        abs(data["target"]["magnitude"] - stars.mag[bright])
        < 5 * data["target"]["mag_error"] + 0.01
    )
    assert data["provenance"]["catalog"] == "csv:field.csv"
    text = CliRunner().invoke(cli, ["frames", "reduce", str(good_frame), "--catalog", str(catalog)])
    assert text.exit_code == 0 and "zero point (V)" in text.output


def test_cli_reduce_rejection_exits_1_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "bad.fits"
    bad.write_text("not a fits file")
    result = CliRunner().invoke(cli, ["frames", "reduce", str(bad)])
    assert result.exit_code == 1 and "rejected (not_fits)" in result.output
    catalog = tmp_path / "broken.csv"
    catalog.write_text("name,ra,dec\n")
    result = CliRunner().invoke(cli, ["frames", "reduce", str(bad), "--catalog", str(catalog)])
    assert result.exit_code == 1 and "lacks column" in result.output
