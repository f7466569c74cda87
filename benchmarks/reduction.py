"""Frame reduction speed, per frame and end to end.

Per frame (one core: thread pools pinned to 1): simulated 2k x 2k and 4k x 4k frames (1.5"/px,
synthetic star field with a header WCS) reduced by datas_core.science (validate, background,
extraction, apertures with CCD errors, WCS refit against the catalog, zero point, target);
the same with astrometry.net solving frames of real Tycho-2 stars that carry no WCS (scale hint
given); and the same steps done with photutils (Background2D, segmentation + SourceCatalog,
aperture_photometry) as the baseline, in the same run.

End to end: frames uploaded to a real API process; the real dagster-daemon runs the
pending-frames sensor and launches reduction runs (each run is its own process, as in
production). Batched (DATAS_REDUCTION_BATCH_SIZE frames per run) against one run per frame.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.harness import api_server, emit, fresh_database
from datas_core.science import catalogs, synthetic
from datas_core.science.frame_io import fits_bytes
from datas_core.science.reduce import ReductionOptions, reduce_frame

RA, DEC = 120.0, 20.0
REPEATS = 3
E2E_FRAMES = int(os.environ.get("DATAS_BENCH_E2E_FRAMES", "120"))
PER_FRAME_RUN_FRAMES = int(os.environ.get("DATAS_BENCH_PER_RUN_FRAMES", "12"))


def header_for(camera: synthetic.Camera, wcs: bool, **extra: Any) -> dict[str, Any]:
    header: dict[str, Any] = dict(synthetic.wcs_header(camera, RA, DEC)) if wcs else {}
    header.update(
        {
            "DATE-OBS": "2026-11-23T21:00:00",
            "EXPTIME": 30.0,
            "FILTER": "V",
            "GAIN": camera.gain,
            "RDNOISE": camera.read_noise_e,
            "INSTRUME": "DATAS simulator",
            **extra,
        }
    )
    return header


def synthetic_frame(size: int, seed: int = 0) -> tuple[np.ndarray, dict[str, Any], synthetic.Stars]:
    camera = synthetic.Camera(width=size, height=size)
    stars = synthetic.sky_catalog(RA, DEC, synthetic.field_radius_deg(camera))
    image = synthetic.render(camera, synthetic.wcs_header(camera, RA, DEC), stars, 30.0, seed=seed)
    return image, header_for(camera, wcs=True), stars


def median_seconds(call: Any, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_datas(size: int) -> tuple[float, int]:
    image, header, stars = synthetic_frame(size)
    target = int(
        np.argmin(np.abs(stars.mag - 13) + 10 * np.hypot(stars.ra_deg - RA, stars.dec_deg - DEC))
    )
    options = ReductionOptions(
        catalog=catalogs.SyntheticCatalog(),
        target_ra_deg=float(stars.ra_deg[target]),
        target_dec_deg=float(stars.dec_deg[target]),
        solve="never",
    )
    result = reduce_frame(image, options, header=header)
    return median_seconds(lambda: reduce_frame(image, options, header=header)), len(result.sources)


def bench_solve(size: int, tycho: catalogs.TychoIndexCatalog) -> float:
    camera = synthetic.Camera(width=size, height=size, fwhm_px=3.0, rotation_deg=11.0)
    real = tycho.query(RA, DEC, synthetic.field_radius_deg(camera))
    stars = synthetic.Stars(real.ra_deg, real.dec_deg, real.mags["VT"])
    wcs = synthetic.wcs_header(camera, RA, DEC)
    image = synthetic.render(camera, wcs, stars, 1.0, seed=3)
    header = header_for(camera, wcs=False, EXPTIME=1.0)
    options = ReductionOptions(catalog=tycho, pixel_scale_arcsec=1.5, solve="always")
    result = reduce_frame(image, options, header=header)
    assert result.astrometry is not None and result.astrometry.method == "solve-field"
    return median_seconds(lambda: reduce_frame(image, options, header=header))


def bench_photutils(size: int) -> float:
    """The same steps with photutils: background map, detection (segmentation with
    deblending), centroids/shape, apertures with errors."""
    from photutils.aperture import CircularAperture, aperture_photometry
    from photutils.background import Background2D, SExtractorBackground
    from photutils.segmentation import SourceCatalog, SourceFinder

    image, _, _ = synthetic_frame(size)
    data = image.astype(np.float32)

    def run() -> None:
        bkg = Background2D(data, 64, filter_size=3, bkg_estimator=SExtractorBackground())
        sub = data - bkg.background
        finder = SourceFinder(
            npixels=5, deblend=True, nlevels=32, contrast=0.005, progress_bar=False
        )
        segments = finder(sub, 5.0 * bkg.background_rms)
        cat = SourceCatalog(sub, segments)
        xy = np.column_stack([cat.xcentroid, cat.ycentroid])
        fwhm = np.nanmedian(np.asarray(cat.fwhm.value))
        error = np.sqrt(bkg.background_rms**2 + np.clip(sub, 0, None) / 1.5)
        aperture_photometry(sub, CircularAperture(xy, r=1.5 * fwhm), error=error)

    return median_seconds(run, repeats=2)


def end_to_end(frames: int, batch_size: int, runs_per_tick: int) -> dict[str, Any]:
    """Upload `frames` 2k x 2k frames and wait until the daemon's runs reduced all of them."""
    from datas_core.db import make_engine, make_session_factory, session_scope
    from datas_core.schemas.auth import KeyCreate
    from datas_core.schemas.sites import SiteCreate
    from datas_core.services import auth, sites

    image, header, _ = synthetic_frame(2048, seed=1)
    bodies = []
    for k in range(frames):  # distinct bytes: every upload is a new frame
        varied = image.copy()
        varied[0, k % 2048] ^= 1 + k // 2048
        bodies.append(fits_bytes(varied, header))
    with fresh_database("sqlite") as url, tempfile.TemporaryDirectory() as home:
        engine = make_engine(url)
        with session_scope(make_session_factory(engine)) as s:
            sites.create_site(s, SiteCreate(site_id="bench", name="Bench", latitude=0, longitude=0))
            _, key = auth.create_key(s, KeyCreate(role="site", site_id="bench"))
        dagster_home = Path(home) / "dagster"
        dagster_home.mkdir()
        shutil.copy(
            Path(__file__).resolve().parent.parent / "dagster.yaml", dagster_home / "dagster.yaml"
        )
        env = {
            **os.environ,
            "DATAS_DATABASE_URL": url,
            "DATAS_HOME": home,
            "DAGSTER_HOME": str(dagster_home),
            "DATAS_FRAMES_SENSOR_SECONDS": "5",
            "DATAS_REDUCTION_BATCH_SIZE": str(batch_size),
            "DATAS_REDUCTION_RUNS_PER_TICK": str(runs_per_tick),
            "DATAS_RANKING_CRON": "0 0 1 1 *",
            "DATAS_NETWORK_STATUS_CRON": "0 0 1 1 *",
        }
        workspace = str(Path(__file__).resolve().parent.parent / "workspace.yaml")
        daemon = subprocess.Popen(
            [str(Path(sys.executable).parent / "dagster-daemon"), "run", "-w", workspace],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            with api_server(url, workers=2, home=home) as base:
                time.sleep(15)  # the daemon loads the code location and starts its sensor loop
                start = time.perf_counter()
                with httpx.Client(
                    base_url=base, headers={"Authorization": f"Bearer {key}"}, timeout=60
                ) as client:
                    for k, body in enumerate(bodies):
                        r = client.post(
                            "/api/v1/frames",
                            files={"file": (f"f{k}.fits", body, "application/fits")},
                            data={"site_id": "bench"},
                        )
                        r.raise_for_status()
                uploaded = time.perf_counter() - start
                done = _wait_reduced(engine, frames, timeout=1800)
                elapsed = time.perf_counter() - start
        finally:
            daemon.terminate()
            daemon.wait(timeout=60)
            engine.dispose()
    return {
        "frames": frames,
        "reduced": done,
        "batch_size": batch_size,
        "upload_seconds": round(uploaded, 2),
        "seconds": round(elapsed, 2),
        "frames_per_min": round(60 * done / elapsed, 1),
    }


def _wait_reduced(engine: Any, frames: int, timeout: float) -> int:
    from sqlalchemy import func, select

    from datas_core.db.models import Frame

    deadline = time.monotonic() + timeout
    done = 0
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            done = conn.execute(
                select(func.count())
                .select_from(Frame)
                .where(Frame.status.in_(("reduced", "rejected")))
            ).scalar_one()
        if done >= frames:
            break
        time.sleep(0.5)
    return int(done)


def main() -> None:
    result: dict[str, Any] = {"benchmark": "reduction"}
    seconds_2k, sources_2k = bench_datas(2048)
    seconds_4k, sources_4k = bench_datas(4096)
    result.update(
        seconds_2k_x_2k=round(seconds_2k, 3),
        seconds_4k_x_4k=round(seconds_4k, 3),
        sources_2k=sources_2k,
        sources_4k=sources_4k,
    )
    result["photutils_seconds_4k_x_4k"] = round(bench_photutils(4096), 3)
    result["photutils_ratio_4k"] = round(result["photutils_seconds_4k_x_4k"] / seconds_4k, 2)
    try:
        tycho = catalogs.TychoIndexCatalog()
    except catalogs.CatalogError as exc:
        result["solve_field"] = f"skipped: {exc}"
    else:
        result["seconds_2k_x_2k_with_solve_field"] = round(bench_solve(2048, tycho), 3)
        result["seconds_4k_x_4k_with_solve_field"] = round(bench_solve(4096, tycho), 3)
    batched = end_to_end(E2E_FRAMES, batch_size=30, runs_per_tick=2)
    per_frame = end_to_end(PER_FRAME_RUN_FRAMES, batch_size=1, runs_per_tick=50)
    result.update(
        frames_per_min_end_to_end=batched["frames_per_min"],
        frames_per_min_one_run_per_frame=per_frame["frames_per_min"],
        end_to_end=batched,
        one_run_per_frame=per_frame,
        goals={
            "seconds_4k_x_4k": "< 2.5 on one core",
            "frames_per_min_end_to_end": ">= 60 (2k x 2k)",
        },
        baseline="photutils for the per-frame steps; one Dagster run per frame for end to end",
    )
    emit(result)


if __name__ == "__main__":
    main()
