"""`datas frames reduce FILE.fits`: the server's reduction, run locally on one frame."""

from __future__ import annotations

import json
from pathlib import Path

import click

from datas_cli.common import out


@click.group()
def frames() -> None:
    """Reduce FITS frames locally (the same code the server pipeline runs)."""


@frames.command("reduce")
@click.argument("fits_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--catalog",
    default=None,
    help="Reference catalog: a CSV (id,ra_deg,dec_deg,<band>...), 'tycho2-index', 'synthetic', "
    "'gaia-dr3' or 'apass9' (VizieR, cached).",
)
@click.option("--band", default=None, help="Catalog band to calibrate against (default: FILTER).")
@click.option("--target-ra", "target_ra", type=float, default=None, help="Target RA, degrees.")
@click.option("--target-dec", "target_dec", type=float, default=None, help="Target Dec, degrees.")
@click.option("--gain", type=float, default=None, help="e-/ADU (default: GAIN header, else 1).")
@click.option("--read-noise", type=float, default=None, help="e- (default: RDNOISE header).")
@click.option("--pixel-scale", type=float, default=None, help="arcsec/pixel: a solve-field hint.")
@click.option(
    "--solve",
    type=click.Choice(["auto", "never", "always"]),
    default="auto",
    show_default=True,
    help="auto: refit the header WCS, solve with astrometry.net when it is missing or wrong.",
)
@click.option("--expected-zero-point", type=float, default=None, help="For the clouds flag.")
@click.option("--colour", default=None, help="Fit a colour term on two catalog bands, e.g. B-V.")
@click.option("--json", "as_json", is_flag=True, help="Print the full result as JSON.")
def reduce_command(
    fits_file: Path,
    catalog: str | None,
    band: str | None,
    target_ra: float | None,
    target_dec: float | None,
    gain: float | None,
    read_noise: float | None,
    pixel_scale: float | None,
    solve: str,
    expected_zero_point: float | None,
    colour: str | None,
    as_json: bool,
) -> None:
    """Validate, solve, measure and calibrate FITS_FILE; print sources, WCS, zero point, target
    and flags. Exit status 1 with the reason when the frame is rejected."""
    from datas_core.science.catalogs import CatalogError, open_catalog
    from datas_core.science.frame_io import FrameRejected
    from datas_core.science.reduce import ReductionOptions, reduce_frame

    colour_bands = None
    if colour is not None:
        parts = colour.split("-")
        if len(parts) != 2 or not all(parts):
            raise click.UsageError(f"--colour {colour!r}: give two catalog bands, e.g. B-V")
        colour_bands = (parts[0], parts[1])
    if (target_ra is None) != (target_dec is None):
        raise click.UsageError("give both --target-ra and --target-dec, or neither")
    try:
        reference = open_catalog(catalog) if catalog else None
    except CatalogError as exc:
        raise click.ClickException(str(exc)) from exc
    options = ReductionOptions(
        catalog=reference,
        band=band,
        target_ra_deg=target_ra,
        target_dec_deg=target_dec,
        gain=gain,
        read_noise_e=read_noise,
        pixel_scale_arcsec=pixel_scale,
        solve=solve,  # type: ignore[arg-type]
        expected_zero_point=expected_zero_point,
        colour=colour_bands,
    )
    try:
        result = reduce_frame(fits_file, options)
    except FrameRejected as exc:
        if as_json:
            click.echo(json.dumps({"rejected": exc.reason, "reason": str(exc)}))
        raise click.ClickException(f"{fits_file.name} rejected ({exc.reason}): {exc}") from exc
    data = result.as_dict()
    if as_json:
        click.echo(json.dumps(data, indent=2))
        return
    _print_summary(fits_file.name, data)


def _print_summary(name: str, data: dict) -> None:
    wcs = data["wcs"] or {}
    zp = data["zero_point"]
    out.print(
        f"[bold]{name}[/bold]: {data['shape'][1]}x{data['shape'][0]}, "
        f"{data['exptime']} s, filter {data['filter']}, {data['observed_at']}"
    )
    out.print(
        f"sources: {data['n_sources']} (aperture r={data['aperture_radius_px']} px, "
        f'FWHM {data["fwhm_px"]} px = {data["fwhm_arcsec"]}", elongation {data["elongation"]})'
    )
    if wcs:
        h = wcs["header"]
        out.print(
            f"WCS: {wcs['method']}, centre ref RA {h['CRVAL1']:.5f} Dec {h['CRVAL2']:+.5f}, "
            f'{wcs["pixel_scale_arcsec"]}"/px, RMS {wcs["rms_arcsec"]}" '
            f"over {wcs['n_matches']} stars"
        )
    if zp:
        out.print(
            f"zero point ({data['band']}): {zp['value']:.3f} ± {zp['error']:.3f} "
            f"from {zp['n_used']} stars ({zp['n_rejected']} clipped, scatter {zp['scatter']:.3f})"
        )
    target = data["target"]
    if target:
        mag = target["magnitude"]
        shown = (
            f"{mag:.3f} ± {target['mag_error']:.3f}"
            if mag is not None
            else (f"not detected (> {target['limiting_mag']})")
        )
        out.print(
            f"target at x={target['x']} y={target['y']}: {shown}, SNR {target['snr']}; "
            f"differential {target['differential_magnitude']} "
            f"({len(target['comparison_stars'])} comparison stars)"
        )
    out.print(f"flags: {', '.join(data['flags']) or 'none'}")
