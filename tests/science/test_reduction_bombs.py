"""Decompression bombs and lying headers are refused `too_large` from the headers, before any
pixel is allocated: the reduction runs in a child process under an address-space limit and must
exit normally with the rejection and a small peak memory."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import math
import os
import subprocess
import sys
import zlib
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from astropy.io import fits

from datas_core.science import fits_guard
from datas_core.science.frame_io import FrameRejected, load_frame

REPO = Path(__file__).resolve().parents[2]
ADDRESS_SPACE = 1536 * 1024 * 1024  # the child may map 1.5 GiB: any declared-size allocation fails
PEAK_RSS_MB = 400
GIB = 1024**3
WHEN = {"DATE-OBS": "2026-11-23T21:00:00", "EXPTIME": 30.0}

CHILD = """
import json, resource, sys
limit = int(sys.argv[2])
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
from datas_core.science import catalogs
from datas_core.science.frame_io import FrameRejected
from datas_core.science.reduce import ReductionOptions, reduce_frame
try:
    reduce_frame(sys.argv[1], ReductionOptions(catalog=catalogs.SyntheticCatalog()))
    out = {"reason": None}
except FrameRejected as exc:
    out = {"reason": exc.reason, "message": str(exc)}
except MemoryError as exc:
    out = {"reason": "MemoryError", "message": str(exc)}
# VmHWM, not getrusage's ru_maxrss: Linux carries ru_maxrss over from the forking (pytest)
# process across exec, while VmHWM is this interpreter's own peak.
status = open("/proc/self/status").read()
out["peak_rss_mb"] = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps(out))
"""


def reduce_in_child(path: Path, max_pixels: int | None = None) -> dict[str, Any]:
    """Reduce `path` in a fresh interpreter limited to ADDRESS_SPACE; its outcome and peak RSS."""
    if not Path("/proc/self/status").exists():
        pytest.skip("the memory checks need Linux (/proc, RLIMIT_AS)")
    env = {k: v for k, v in os.environ.items() if k != fits_guard.MAX_PIXELS_ENV}
    env["OPENBLAS_NUM_THREADS"] = "1"
    if max_pixels is not None:
        env[fits_guard.MAX_PIXELS_ENV] = str(max_pixels)
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(path), str(ADDRESS_SPACE)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, f"the child died ({done.returncode}): {done.stderr[-2000:]}"
    return json.loads(done.stdout.strip().splitlines()[-1])


def header_bytes(*axes: int, bitpix: int = -32, **cards: Any) -> bytes:
    """A primary header (padded to its 2880-byte block) declaring `axes`, nothing else."""
    header = fits.Header([("SIMPLE", True), ("BITPIX", bitpix), ("NAXIS", len(axes))])
    for i, n in enumerate(axes, start=1):
        header[f"NAXIS{i}"] = n
    header.update({**WHEN, **cards})
    return header.tostring().encode()


def gzip_stream(parts: Iterable[bytes]) -> bytes:
    """One gzip member, compressed chunk by chunk (never the whole input in memory)."""
    packer = zlib.compressobj(6, zlib.DEFLATED, 31)
    out = [packer.compress(part) for part in parts]
    return b"".join(out) + packer.flush()


def zeros(total: int, chunk: int = 1024 * 1024) -> Iterable[bytes]:
    block = bytes(chunk)
    for _ in range(total // chunk):
        yield block


def frame_bytes(data: np.ndarray, *extensions: fits.ImageHDU) -> bytes:
    buffer = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(data, fits.Header(WHEN)), *extensions]).writeto(buffer)
    return buffer.getvalue()


def reason(source: Path | bytes, max_pixels: int | None = None) -> tuple[str, str]:
    with pytest.raises(FrameRejected) as caught:
        load_frame(source, max_pixels=max_pixels)
    return caught.value.reason, str(caught.value)


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("bombs")
    # 1 GiB of zeros deflated once (~1 MB); gzip members concatenate into one stream, as
    # `cat a.gz b.gz` and gzip -d agree, so each bomb below inflates to over 1 GiB.
    gib_of_zeros = gzip_stream(zeros(GIB))
    small = frame_bytes(np.arange(64 * 64, dtype=np.float32).reshape(64, 64))
    made = {
        # 142 bytes of gzip claiming a 100000 x 100000 float frame (40 GB)
        "liar.fits.gz": gzip.compress(header_bytes(100_000, 100_000) + b"\0" * 100),
        # a true 16384 x 16384 float frame of zeros, padded as FITS wants
        "huge.fits.gz": gzip.compress(header_bytes(16_384, 16_384))
        + gib_of_zeros
        + gzip.compress(bytes(-GIB % fits_guard.BLOCK)),
        # a small honest frame followed by 1 GiB of zeros its header does not declare
        "stuffed.fits.gz": gzip.compress(small) + gib_of_zeros,
    }
    tiled = io.BytesIO()
    image = np.random.default_rng(1).normal(100, 5, (64, 64)).astype(np.float32)
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(image, fits.Header(WHEN))]).writeto(tiled)
    packed = tiled.getvalue()
    for key in (b"ZNAXIS1 ", b"ZNAXIS2 "):  # an fpack header edited to 100000 x 100000 (37 GiB)
        at = packed.index(key)
        packed = packed[:at] + (key + b"= " + b"%20d" % 100_000).ljust(80) + packed[at + 80 :]
    made["absurd.fits.fz"] = packed
    paths = {}
    for name, data in made.items():
        paths[name] = folder / name
        paths[name].write_bytes(data)
    return paths


def test_a_142_byte_gzip_claiming_100000_squared_pixels(bombs: dict[str, Path]) -> None:
    path = bombs["liar.fits.gz"]
    assert path.stat().st_size < 200
    got = reduce_in_child(path)
    assert got["reason"] == "too_large", got
    assert "10,000,000,000 pixels" in got["message"] and "200,000,000" in got["message"]
    assert "raise DATAS_MAX_FRAME_PIXELS" in got["message"]
    assert got["peak_rss_mb"] < PEAK_RSS_MB
    # With the limit raised past the lie, the missing data is found from the gzip stream itself.
    raised = reduce_in_child(path, max_pixels=20_000_000_000)
    assert raised["reason"] == "truncated" and raised["peak_rss_mb"] < PEAK_RSS_MB, raised


@pytest.mark.parametrize(
    ("name", "says"),
    [("huge.fits.gz", "268,435,456 pixels"), ("stuffed.fits.gz", "inflates past the")],
)
def test_a_gzip_inflating_to_1_gib_is_refused_while_streaming(
    bombs: dict[str, Path], name: str, says: str
) -> None:
    path = bombs[name]
    assert path.stat().st_size < 2 * 1024 * 1024  # 1 GiB of zeros deflates ~1000:1
    got = reduce_in_child(path)
    assert got["reason"] == "too_large" and says in got["message"], got
    assert got["peak_rss_mb"] < PEAK_RSS_MB, got


def test_the_memory_harness_does_catch_an_allowed_1_gib_frame(bombs: dict[str, Path]) -> None:
    """The control: allowed by a raised limit, the same file is read and overruns the child's
    address space. So the refusals above are what kept the memory small."""
    got = reduce_in_child(bombs["huge.fits.gz"], max_pixels=300_000_000)
    assert got["reason"] == "MemoryError", got


def test_an_fpack_frame_declaring_absurd_znaxis(bombs: dict[str, Path]) -> None:
    got = reduce_in_child(bombs["absurd.fits.fz"])
    assert got["reason"] == "too_large", got
    assert "100000 x 100000 tile-compressed" in got["message"]
    assert got["peak_rss_mb"] < PEAK_RSS_MB


def test_every_image_hdu_counts_toward_the_limit() -> None:
    image = np.arange(300 * 300, dtype=np.float32).reshape(300, 300)
    two = frame_bytes(image, fits.ImageHDU(image))
    assert load_frame(two, max_pixels=180_000).data.shape == (300, 300)
    got, message = reason(two, max_pixels=150_000)
    assert got == "too_large" and "180,000 pixels" in message and "2 image HDUs" in message
    packed = io.BytesIO()
    fits.HDUList([fits.PrimaryHDU(), fits.CompImageHDU(image, fits.Header(WHEN))]).writeto(packed)
    assert reason(packed.getvalue(), max_pixels=50_000)[0] == "too_large"


@pytest.mark.parametrize(("bitpix", "dtype"), [(8, np.uint8), (-64, np.float64)])
def test_data_size_follows_bitpix_and_truncation_is_caught_first(bitpix: int, dtype: type) -> None:
    image: np.ndarray = np.random.default_rng(2).integers(0, 200, (64, 64)).astype(dtype)
    whole = frame_bytes(image)
    assert fits.Header.fromstring(whole[:2880])["BITPIX"] == bitpix
    assert np.array_equal(load_frame(whole).data, image.astype(np.float32))
    declared = math.ceil(64 * 64 * abs(bitpix) / 8 / 2880) * 2880  # 2880 or 34560 bytes
    cut = whole[:declared]  # one 2880-byte header, then one block of the data missing
    got, message = reason(cut)
    assert got == "truncated" and f"declares {declared:,} bytes" in message
    assert reason(gzip.compress(cut))[0] == "truncated"
    assert reason(gzip.compress(whole)[:-100])[0] == "truncated"  # the gzip stream itself cut


def test_gzip_members_plain_bytes_and_other_compressions(tmp_path: Path) -> None:
    image = np.arange(64 * 64, dtype=np.int16).reshape(64, 64)
    whole = frame_bytes(image)
    members = gzip.compress(whole[:5000]) + gzip.compress(whole[5000:])  # as gzip.open reads it
    assert np.array_equal(load_frame(members).data, image.astype(np.float32))
    packed = tmp_path / "frame.fits.bz2"
    packed.write_bytes(bz2.compress(whole))
    got, message = reason(packed)
    assert got == "not_fits" and "bzip2" in message and "frame.fits.bz2" in message


def test_the_limit_defaults_to_the_environment_and_covers_arrays(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "frame.fits"
    path.write_bytes(frame_bytes(np.ones((200, 200), dtype=np.float32)))
    monkeypatch.setenv(fits_guard.MAX_PIXELS_ENV, "10000")
    got, message = reason(path)
    assert got == "too_large" and "limit of 10,000 (DATAS_MAX_FRAME_PIXELS)" in message
    with pytest.raises(FrameRejected) as caught:
        load_frame(np.ones((200, 200)), dict(WHEN))
    assert caught.value.reason == "too_large" and "40,000 pixels" in str(caught.value)
    monkeypatch.setenv(fits_guard.MAX_PIXELS_ENV, "not a number")
    assert fits_guard.default_max_pixels() == fits_guard.DEFAULT_MAX_FRAME_PIXELS


def test_the_inflater_stops_at_its_hard_cap() -> None:
    """Whatever the headers say, inflation stops one byte past the cap."""
    bomb = gzip_stream(zeros(64 * 1024 * 1024))
    inflated = fits_guard._Inflated(io.BytesIO(bomb), "bomb.gz", limit=4 * 1024 * 1024)
    with pytest.raises(fits_guard.Refused) as caught:
        inflated.skip(GIB)
    assert caught.value.reason == "too_large" and inflated.size <= 4 * 1024 * 1024 + 1
