"""Reference catalogs behind one interface: a local CSV file, the Tycho-2 stars inside the
astrometry.net index files, the synthetic sky of the simulator, and VizieR (Gaia DR3, APASS)
through astroquery with an on-disk cache so a field is fetched once and works offline after.
"""

from __future__ import annotations

import csv
import hashlib
import json
import math
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
from numpy.typing import NDArray

from datas_core.science import synthetic
from datas_core.sky.vectors import angular_separation_deg

ASTROMETRY_INDEX_DIR = Path("/usr/share/astrometry")


class CatalogError(Exception):
    """A catalog could not be read or queried; the message says what to fix."""


@dataclass
class CatalogStars:
    ids: list[str]
    ra_deg: NDArray[np.float64]
    dec_deg: NDArray[np.float64]
    mags: dict[str, NDArray[np.float64]] = field(default_factory=dict)
    mag_errors: dict[str, NDArray[np.float64]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.ids)

    def select(self, keep: NDArray[np.bool_]) -> CatalogStars:
        return CatalogStars(
            ids=[i for i, k in zip(self.ids, keep, strict=True) if k],
            ra_deg=self.ra_deg[keep],
            dec_deg=self.dec_deg[keep],
            mags={b: m[keep] for b, m in self.mags.items()},
            mag_errors={b: m[keep] for b, m in self.mag_errors.items()},
        )

    def brightest_first(self) -> CatalogStars:
        """The same stars ordered by brightness in any band (stars without one last)."""
        if not self.mags or not len(self):
            return self
        stacked = np.vstack([np.nan_to_num(m, nan=np.inf) for m in self.mags.values()])
        order = np.argsort(stacked.min(axis=0), kind="stable")
        return CatalogStars(
            ids=[self.ids[i] for i in order],
            ra_deg=self.ra_deg[order],
            dec_deg=self.dec_deg[order],
            mags={b: m[order] for b, m in self.mags.items()},
            mag_errors={b: m[order] for b, m in self.mag_errors.items()},
        )


class ReferenceCatalog(Protocol):
    name: str
    version: str

    def query(self, ra_deg: float, dec_deg: float, radius_deg: float) -> CatalogStars: ...


class CsvCatalog:
    """`id,ra_deg,dec_deg` plus one magnitude column per band named as the band (`V`, `R`, ...);
    optional `<band>_err` columns carry magnitude errors."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            raw = self.path.read_bytes()
        except OSError as exc:
            raise CatalogError(f"cannot read catalog {self.path}: {exc.strerror}") from exc
        self.name = f"csv:{self.path.name}"
        self.version = hashlib.sha256(raw).hexdigest()[:12]
        self._stars = self._parse(raw.decode("utf-8-sig", errors="replace"))

    def _parse(self, text: str) -> CatalogStars:
        reader = csv.DictReader(text.splitlines())
        columns = [c.strip() for c in reader.fieldnames or []]
        missing = {"id", "ra_deg", "dec_deg"} - set(columns)
        if missing:
            raise CatalogError(
                f"catalog {self.path.name} lacks column(s) {', '.join(sorted(missing))}; "
                "the header "
                "must be id,ra_deg,dec_deg followed by one magnitude column per band (e.g. V,R)"
            )
        bands = [
            c for c in columns if c not in ("id", "ra_deg", "dec_deg") and not c.endswith("_err")
        ]
        ids, ra, dec = [], [], []
        mags: dict[str, list[float]] = {b: [] for b in bands}
        errs: dict[str, list[float]] = {b: [] for b in bands if f"{b}_err" in columns}
        for line, row in enumerate(reader, start=2):
            try:
                r, d = float(row["ra_deg"]), float(row["dec_deg"])
            except (TypeError, ValueError) as exc:
                raise CatalogError(
                    f"catalog {self.path.name} line {line}: "
                    "ra_deg/dec_deg must be numbers in degrees"
                ) from exc
            ids.append(str(row["id"]).strip())
            ra.append(r)
            dec.append(d)
            for b in bands:
                mags[b].append(_number(row.get(b)))
            for b in errs:
                errs[b].append(_number(row.get(f"{b}_err")))
        return CatalogStars(
            ids=ids,
            ra_deg=np.asarray(ra, dtype=float),
            dec_deg=np.asarray(dec, dtype=float),
            mags={b: np.asarray(v) for b, v in mags.items()},
            mag_errors={b: np.asarray(v) for b, v in errs.items()},
        )

    def query(self, ra_deg: float, dec_deg: float, radius_deg: float) -> CatalogStars:
        sep_deg = angular_separation_deg(ra_deg, dec_deg, self._stars.ra_deg, self._stars.dec_deg)
        return self._stars.select(sep_deg <= radius_deg)


class SyntheticCatalog:
    """The simulator's sky (magnitudes in every band are the same synthetic magnitude)."""

    name = "synthetic"
    version = "1"

    def __init__(self, bands: tuple[str, ...] = ("B", "V", "R", "I", "L", "CLEAR")) -> None:
        self.bands = bands

    def query(self, ra_deg: float, dec_deg: float, radius_deg: float) -> CatalogStars:
        stars = synthetic.sky_catalog(ra_deg, dec_deg, radius_deg)
        return CatalogStars(
            ids=stars.ids,
            ra_deg=stars.ra_deg,
            dec_deg=stars.dec_deg,
            mags={b: stars.mag for b in self.bands},
        )


class TychoIndexCatalog:
    """Tycho-2 stars (VT magnitudes) read from the astrometry.net index files with
    `query-starkd`: a real, fully offline star list to about VT 12."""

    name = "tycho2-index"

    def __init__(self, index_dir: Path = ASTROMETRY_INDEX_DIR) -> None:
        files = sorted(index_dir.glob("index-tycho2-*.fits"))
        if not files or shutil.which("query-starkd") is None:
            raise CatalogError(
                f"no Tycho-2 index files in {index_dir} or no query-starkd; install "
                "astrometry.net and astrometry-data-tycho2 (apt)"
            )
        self.index_file = files[0]  # the lowest series number holds the most stars
        self.version = self.index_file.name

    def query(self, ra_deg: float, dec_deg: float, radius_deg: float) -> CatalogStars:
        from astropy.io import fits

        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "stars.fits"
            done = subprocess.run(
                [
                    "query-starkd",
                    "-r",
                    str(ra_deg),
                    "-d",
                    str(dec_deg),
                    "-R",
                    str(radius_deg),
                    "-T",
                    "-I",
                    "-o",
                    str(out),
                    str(self.index_file),
                ],
                capture_output=True,
                text=True,
                timeout=60,
                check=False,
            )
            if done.returncode == 0 and not out.exists():  # no stars there: no file written
                return CatalogStars([], np.zeros(0), np.zeros(0), {"VT": np.zeros(0)})
            if done.returncode != 0:
                raise CatalogError(f"query-starkd failed: {done.stderr.strip()[-300:]}")
            with fits.open(out, memmap=False) as hdus:
                table = hdus[1].data
                if table is None or len(table) == 0:
                    return CatalogStars([], np.zeros(0), np.zeros(0), {"VT": np.zeros(0)})
                ra = np.asarray(table["RA"], dtype=float)
                dec = np.asarray(table["DEC"], dtype=float)
                mag = np.asarray(table["MAG_VT"], dtype=float)
                index = np.asarray(table["INDEX"]) if "INDEX" in table.names else np.arange(len(ra))
        return CatalogStars(
            ids=[f"TYC-IDX-{i}" for i in index], ra_deg=ra, dec_deg=dec, mags={"VT": mag}
        )


class VizierCatalog:
    """Gaia DR3 synthetic photometry (I/360) or APASS DR9 (II/336) via astroquery, cached per
    field on disk: a site fetches a field once and reduces offline after."""

    CATALOGS = {
        "gaia-dr3": (
            "I/360/syntphot",
            "Source",
            "RA_ICRS",
            "DE_ICRS",
            {"B": "Bmag", "V": "Vmag", "R": "Rmag", "I": "Imag", "g": "gSDSSmag", "r": "rSDSSmag"},
        ),
        "apass9": (
            "II/336/apass9",
            "recno",
            "RAJ2000",
            "DEJ2000",
            {"B": "Bmag", "V": "Vmag", "g": "g'mag", "r": "r'mag", "i": "i'mag"},
        ),
    }

    def __init__(self, which: str, cache_dir: Path, max_rows: int = 20_000) -> None:
        if which not in self.CATALOGS:
            raise CatalogError(
                f"unknown VizieR catalog {which!r}; use one of {', '.join(self.CATALOGS)}"
            )
        self.which = which
        self.name = which
        self.version = self.CATALOGS[which][0]
        self.cache_dir = cache_dir
        self.max_rows = max_rows

    def query(self, ra_deg: float, dec_deg: float, radius_deg: float) -> CatalogStars:
        key = f"{self.which}_{ra_deg:.3f}_{dec_deg:+.3f}_{radius_deg:.3f}.json"
        cached = self.cache_dir / key
        if cached.exists():
            return _stars_from_json(json.loads(cached.read_text()))
        stars = self._fetch(ra_deg, dec_deg, radius_deg)
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        cached.write_text(json.dumps(_stars_to_json(stars)))
        return stars

    def _fetch(self, ra_deg: float, dec_deg: float, radius_deg: float) -> CatalogStars:
        import astropy.units as u
        from astropy.coordinates import SkyCoord
        from astroquery.vizier import Vizier

        table_name, id_col, ra_col, dec_col, bands = self.CATALOGS[self.which]
        vizier = Vizier(columns=[id_col, ra_col, dec_col, *bands.values()], row_limit=self.max_rows)
        try:
            result = vizier.query_region(
                SkyCoord(ra_deg * u.deg, dec_deg * u.deg),
                radius=radius_deg * u.deg,
                catalog=table_name,
            )
        except Exception as exc:  # network errors come in many types
            raise CatalogError(
                f"VizieR query for {self.which} failed ({exc}); the site is offline and this "
                "field is not cached: use a local CSV catalog"
            ) from exc
        if not result:
            return CatalogStars([], np.zeros(0), np.zeros(0), {b: np.zeros(0) for b in bands})
        t = result[0]
        return CatalogStars(
            ids=[str(v) for v in t[id_col]],
            ra_deg=np.asarray(t[ra_col], dtype=float),
            dec_deg=np.asarray(t[dec_col], dtype=float),
            mags={b: np.asarray(np.ma.filled(t[c], np.nan), dtype=float) for b, c in bands.items()},
        )


def open_catalog(spec: str, cache_dir: Path | None = None) -> ReferenceCatalog:
    """`synthetic`, `tycho2-index`, `gaia-dr3`, `apass9`, or a path to a CSV file."""
    if spec == "synthetic":
        return SyntheticCatalog()
    if spec == "tycho2-index":
        return TychoIndexCatalog()
    if spec in VizierCatalog.CATALOGS:
        return VizierCatalog(spec, cache_dir or Path.home() / ".cache" / "datas" / "catalogs")
    return CsvCatalog(spec)


def _number(value: object) -> float:
    try:
        out = float(str(value))
    except ValueError:
        return math.nan
    return out


def _stars_to_json(stars: CatalogStars) -> dict[str, object]:
    return {
        "ids": stars.ids,
        "ra": stars.ra_deg.tolist(),
        "dec": stars.dec_deg.tolist(),
        "mags": {b: m.tolist() for b, m in stars.mags.items()},
    }


def _stars_from_json(data: dict[str, object]) -> CatalogStars:
    mags = data["mags"]
    assert isinstance(mags, dict)
    return CatalogStars(
        ids=list(data["ids"]),  # type: ignore[call-overload]
        ra_deg=np.asarray(data["ra"], dtype=float),
        dec_deg=np.asarray(data["dec"], dtype=float),
        mags={b: np.asarray(m, dtype=float) for b, m in mags.items()},
    )
