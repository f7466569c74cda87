"""Light curves: BJD_TDB against astropy, the query options, and the exports read back."""

from __future__ import annotations

import csv
import io
import json
import uuid
import warnings
from datetime import datetime, timedelta, timezone

import numpy as np
import pyarrow.parquet as pq
import pytest
from astropy import units as u
from astropy.coordinates import EarthLocation, SkyCoord
from astropy.time import Time
from sqlalchemy.orm import Session

from datas_core.db.models import Observation
from datas_core.errors import InvalidInput, NotFound
from datas_core.lightcurves import (
    COLUMNS,
    LightCurveQuery,
    bjd_tdb,
    load_light_curve,
    to_aavso,
    to_csv,
    to_parquet_bytes,
)
from datas_core.lightcurves.aavso import FIELDS, filter_code
from datas_core.lightcurves.changes import changed_targets, partition_spans
from datas_core.lightcurves.quality import (
    flagged_share,
    night_names,
    robust_std,
    zero_point_scatter,
)
from datas_core.lightcurves.report import quality_report
from datas_core.schemas.sites import SiteCreate
from datas_core.schemas.targets import TargetCreate
from datas_core.services import sites, targets

UTC = timezone.utc


def astropy_bjd(unix, ra, dec, lat, lon, height):
    location = EarthLocation.from_geodetic(lon * u.deg, lat * u.deg, height * u.m)
    t = Time(unix, format="unix", scale="utc", location=location)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # IERS predictions past the bundled table
        ltt = t.light_travel_time(SkyCoord(ra * u.deg, dec * u.deg), ephemeris="builtin")
        return t.tdb + ltt


@pytest.mark.parametrize(
    ("ra", "dec"),
    [(337.2925, 58.4152), (0.0, 0.0), (359.99, -89.5), (90.0, 66.56), (270.0, -23.4)],
)
def test_bjd_tdb_agrees_with_astropy_to_a_millisecond(ra: float, dec: float) -> None:
    rng = np.random.default_rng(7)
    n = 3000
    unix = rng.uniform(
        datetime(2016, 1, 1, tzinfo=UTC).timestamp(),
        datetime(2026, 11, 1, tzinfo=UTC).timestamp(),
        n,
    )
    lat, lon = rng.uniform(-70, 70, n), rng.uniform(-180, 180, n)
    height = rng.uniform(0, 4000, n)
    ours = bjd_tdb(unix, ra, dec, lat, lon, height)
    ref = astropy_bjd(unix, ra, dec, lat, lon, height)
    diff_s = ((ours - ref.jd1) - ref.jd2) * 86400.0
    assert np.abs(diff_s).max() < 1e-3
    # Not a trivial agreement: the barycentric term itself spans minutes over a year.
    jd_utc = unix / 86400.0 + 2440587.5
    correction_s = (ours - jd_utc) * 86400.0
    assert correction_s.max() - correction_s.min() > 100.0 * abs(np.cos(np.radians(dec)))


def test_bjd_tdb_across_the_2016_leap_second() -> None:
    end_2016 = datetime(2017, 1, 1, tzinfo=UTC).timestamp()
    unix = end_2016 + np.array([-3600.0, -1.0, 0.0, 1.0, 3600.0])
    ours = bjd_tdb(unix, 10.0, 20.0, 50.0, 10.0, 300.0)
    ref = astropy_bjd(unix, 10.0, 20.0, 50.0, 10.0, 300.0)
    assert np.abs(((ours - ref.jd1) - ref.jd2) * 86400.0).max() < 1e-3


def test_bjd_tdb_is_fast_for_a_long_light_curve() -> None:
    import time

    unix = np.linspace(1.5e9, 1.5e9 + 365 * 86400.0, 100_000)
    start = time.perf_counter()
    bjd_tdb(unix, 45.0, 30.0, 40.0, -105.0, 2000.0)
    assert time.perf_counter() - start < 2.0


# --- a target's points from the database ---------------------------------------------------


def add_site(session: Session, site_id: str, lat: float, lon: float, elevation: float) -> None:
    sites.create_site(
        session,
        SiteCreate(
            site_id=site_id, name=site_id, latitude=lat, longitude=lon, elevation_m=elevation
        ),
    )


def add_obs(session: Session, target_id: int, site_id: str, when: datetime, **extra) -> str:
    oid = str(uuid.uuid4())
    values = {
        "exposure_sec": 60.0,
        "filter": "V",
        "magnitude": 12.0,
        "mag_error": 0.01,
        "comparison_stars": [],
        "quality_flags": [],
        "received_at": datetime.now(UTC),
    }
    values.update(extra)
    session.add(
        Observation(
            observation_id=oid, target_id=target_id, site_id=site_id, observed_at=when, **values
        )
    )
    return oid


@pytest.fixture
def curve_data(session: Session) -> dict:
    add_site(session, "ond", 49.9106, 14.7836, 528.0)
    add_site(session, "sso", -31.2733, 149.0644, 1165.0)
    (target,) = targets.create_targets(
        session, [TargetCreate(name="delta Cep", ra_deg=337.2925, dec_deg=58.4152)]
    )
    t0 = datetime(2026, 9, 1, 20, 0, tzinfo=UTC)
    ids = {
        "v1": add_obs(session, target.target_id, "ond", t0, exposure_sec=120.0, airmass=1.2),
        "b1": add_obs(session, target.target_id, "ond", t0 + timedelta(minutes=5), filter="B"),
        "v2": add_obs(
            session,
            target.target_id,
            "sso",
            t0 + timedelta(hours=3),
            magnitude=12.3,
            quality_flags=["high_airmass"],
        ),
        "v3": add_obs(session, target.target_id, "ond", t0 + timedelta(days=1), exposure_sec=None),
        "flux": add_obs(
            session,
            target.target_id,
            "sso",
            t0 + timedelta(days=2),
            magnitude=None,
            mag_error=None,
            flux=1234.5,
            flux_err=12.0,
        ),
    }
    add_obs(session, target.target_id, "ond", t0 + timedelta(days=3), magnitude=None)  # no point
    session.commit()
    return {"target_id": target.target_id, "ids": ids, "t0": t0}


def test_points_are_mid_exposure_bjd_in_time_order(session: Session, curve_data: dict) -> None:
    curve = load_light_curve(session, curve_data["target_id"])
    ids = curve_data["ids"]
    assert [r["observation_id"] for r in curve.rows] == [
        ids["v1"],
        ids["b1"],
        ids["v2"],
        ids["v3"],
        ids["flux"],
    ]
    assert curve.total == 5 and curve.filters == ["B", "V"] and curve.next_offset is None
    first = curve.rows[0]
    mid = curve_data["t0"].timestamp() + 60.0  # 120 s exposure starting at observed_at
    assert first["jd_utc"] == pytest.approx(mid / 86400.0 + 2440587.5, abs=1e-9)
    ref = astropy_bjd(np.array([mid]), 337.2925, 58.4152, 49.9106, 14.7836, 528.0)
    assert abs((first["bjd_tdb"] - ref.jd1[0] - ref.jd2[0]) * 86400.0) < 1e-3
    no_exposure = curve.rows[3]  # no exposure time: observed_at itself
    start = (curve_data["t0"] + timedelta(days=1)).timestamp()
    assert no_exposure["jd_utc"] == pytest.approx(start / 86400.0 + 2440587.5, abs=1e-9)
    assert curve.rows[2]["flagged"] is True and curve.rows[2]["quality_flags"] == ["high_airmass"]
    assert first["flagged"] is False and first["airmass"] == 1.2


def test_query_options_filter_site_window_flags_and_pages(
    session: Session, curve_data: dict
) -> None:
    tid, ids, t0 = curve_data["target_id"], curve_data["ids"], curve_data["t0"]

    def picked(**options) -> list[str]:
        return [
            r["observation_id"]
            for r in load_light_curve(session, tid, LightCurveQuery(**options)).rows
        ]

    assert picked(filter="B") == [ids["b1"]]
    assert picked(site_id="sso") == [ids["v2"], ids["flux"]]
    assert picked(good_only=True) == [ids["v1"], ids["b1"], ids["v3"], ids["flux"]]
    assert picked(after=t0 + timedelta(hours=1), before=t0 + timedelta(days=2)) == [
        ids["v2"],
        ids["v3"],
    ]
    page = load_light_curve(session, tid, LightCurveQuery(limit=2, offset=2))
    assert [r["observation_id"] for r in page.rows] == [ids["v2"], ids["v3"]]
    assert (page.total, page.next_offset) == (5, 4)
    with pytest.raises(NotFound):
        load_light_curve(session, 999_999)
    with pytest.raises(InvalidInput):
        load_light_curve(session, tid, LightCurveQuery(after=t0, before=t0))


def test_csv_reads_back_with_the_csv_module(session: Session, curve_data: dict) -> None:
    curve = load_light_curve(session, curve_data["target_id"])
    table = list(csv.DictReader(io.StringIO(to_csv(curve))))
    assert len(table) == 5 and tuple(table[0]) == COLUMNS
    for line, row in zip(table, curve.rows, strict=True):
        assert float(line["bjd_tdb"]) == row["bjd_tdb"]  # exact: floats written round-trip
        assert line["observation_id"] == row["observation_id"]
        assert datetime.fromisoformat(line["observed_at"]) == row["observed_at"]
        assert line["flagged"] == ("true" if row["flagged"] else "false")
    assert table[2]["quality_flags"] == "high_airmass"
    assert table[4]["magnitude"] == "" and float(table[4]["flux"]) == 1234.5


def test_aavso_extended_header_and_fields(session: Session, curve_data: dict) -> None:
    curve = load_light_curve(session, curve_data["target_id"])
    curve.name = "delta Cep, the prototype"  # a delimiter inside a field must not split it
    curve.rows[0]["comparison_stars"] = [{"name": "zeta Cep", "mag": 3.35}]
    curve.rows[1]["comparison_stars"] = ["c1", "c2", "c3"]
    text = to_aavso(curve, obscode="XYZ")
    lines = text.splitlines()
    params = [line for line in lines if line.startswith("#") and "=" in line]
    assert params[:6] == [
        "#TYPE=EXTENDED",
        "#OBSCODE=XYZ",
        params[2],
        "#DELIM=,",
        "#DATE=JD",
        "#OBSTYPE=CCD",
    ]
    assert params[2].startswith("#SOFTWARE=DATAS ")
    assert "#" + ",".join(FIELDS) in lines
    data = [line.split(",") for line in lines if not line.startswith("#")]
    assert len(data) == 4  # the flux-only point has no magnitude to report
    assert all(len(fields) == 15 for fields in data)
    record = dict(zip(FIELDS, data[0], strict=True))
    assert record["NAME"] == "delta Cep  the prototype"
    assert float(record["DATE"]) == pytest.approx(curve.rows[0]["jd_utc"], abs=1e-6)
    assert (record["MAG"], record["MERR"], record["FILT"]) == ("12.000", "0.010", "V")
    assert (record["TRANS"], record["MTYPE"], record["AMASS"]) == ("NO", "STD", "1.200")
    assert (record["CNAME"], record["CMAG"], record["KNAME"]) == ("zeta Cep", "na", "na")
    assert dict(zip(FIELDS, data[1], strict=True))["CNAME"] == "ENSEMBLE"
    assert dict(zip(FIELDS, data[1], strict=True))["FILT"] == "B"
    flagged = dict(zip(FIELDS, data[2], strict=True))
    assert "flags=high_airmass" in flagged["NOTES"] and "site=sso" in flagged["NOTES"]
    assert [filter_code(f) for f in ("Rc", "r'", "g", "Clear", None, "Ic")] == [
        "R",
        "SR",
        "SG",
        "CV",
        "CV",
        "I",
    ]


def test_parquet_reads_back(session: Session, curve_data: dict) -> None:
    curve = load_light_curve(session, curve_data["target_id"])
    table = pq.read_table(io.BytesIO(to_parquet_bytes(curve)))
    assert table.column_names == list(COLUMNS) and table.num_rows == 5
    back = table.to_pylist()
    for got, row in zip(back, curve.rows, strict=True):
        assert got["bjd_tdb"] == row["bjd_tdb"] and got["observed_at"] == row["observed_at"]
        assert got["quality_flags"] == row["quality_flags"]
    meta = json.loads(table.schema.metadata[b"datas"])
    assert meta["target_id"] == curve.target_id and meta["name"] == "delta Cep"


# --- data quality per site and night ----------------------------------------------------------


def test_night_names_keep_one_night_together() -> None:
    evening = datetime(2026, 9, 1, 19, 0, tzinfo=UTC).timestamp()  # 21:00 at +30 deg
    before_dawn = datetime(2026, 9, 2, 2, 30, tzinfo=UTC).timestamp()
    next_evening = datetime(2026, 9, 2, 19, 0, tzinfo=UTC).timestamp()
    names = night_names([evening, before_dawn, next_evening], 30.0)
    assert list(names) == ["2026-09-01", "2026-09-01", "2026-09-02"]
    # the same UTC instant is a different local night far west
    assert night_names([datetime(2026, 9, 2, 2, 30, tzinfo=UTC).timestamp()], -150.0)[0] == (
        "2026-09-01"
    )


def test_zero_point_scatter_and_flagged_share_numbers() -> None:
    rng = np.random.default_rng(3)
    quiet = 22.0 + rng.normal(0, 0.02, 200)
    noisy = 22.0 + rng.normal(0, 0.20, 200)
    assert robust_std(quiet) == pytest.approx(0.02, rel=0.15)
    n = 200
    site = ["a"] * n + ["b"] * n + ["b"] * 2
    night = ["2026-09-01"] * (2 * n + 2)
    band = ["V"] * (2 * n) + ["B"] * 2
    zp = np.concatenate([quiet, noisy, [21.0, 21.5]])
    result = {(z.site_id, z.filter): z for z in zero_point_scatter(site, night, band, zp, 0.1)}
    assert set(result) == {("a", "V"), ("b", "V")}  # two B zero points say nothing
    assert result[("a", "V")].exceeds is False
    assert result[("b", "V")].robust_std == pytest.approx(0.20, rel=0.15)
    assert result[("b", "V")].exceeds is True
    flags = flagged_share(
        ["a"] * 10 + ["b"] * 4, ["n1"] * 14, [True] * 2 + [False] * 8 + [True] * 3 + [False], 0.25
    )
    assert [(f.site_id, f.n, f.flagged, f.share, f.exceeds) for f in flags] == [
        ("a", 10, 2, 0.2, False),
        ("b", 4, 3, 0.75, True),
    ]


def test_quality_report_covers_whole_site_nights(session: Session) -> None:
    add_site(session, "ond", 49.9106, 14.7836, 528.0)
    made = targets.create_targets(
        session, [TargetCreate(name=f"T{i}", ra_deg=10.0 * i, dec_deg=20.0) for i in range(3)]
    )
    t0 = datetime(2026, 9, 1, 20, 0, tzinfo=UTC)
    zps = [22.0, 22.3, 21.7, 22.0]
    for i, zp in enumerate(zps):  # T0 and T1 share the night; T2 is a week later
        target = made[i % 2]
        add_obs(session, target.target_id, "ond", t0 + timedelta(hours=i), zero_point=zp)
    add_obs(session, made[2].target_id, "ond", t0 + timedelta(days=7), quality_flags=["x"])
    session.commit()
    report = quality_report(session, [made[0].target_id], 0.1, 0.25)
    assert [(z.night, z.n) for z in report.zero_points] == [("2026-09-01", 4)]
    assert report.zero_points[0].robust_std == pytest.approx(1.4826 * 0.15)
    assert report.zero_points[0].exceeds is True
    assert [(f.night, f.n, f.flagged) for f in report.flagged] == [("2026-09-01", 4, 0)]
    assert "| ond | 2026-09-01 | V | 4 |" in report.zero_point_table()


# --- which targets changed -------------------------------------------------------------------


def test_changed_targets_cursor_limit_ties_and_settle(session: Session) -> None:
    add_site(session, "ond", 49.9106, 14.7836, 528.0)
    made = targets.create_targets(
        session, [TargetCreate(name=f"T{i}", ra_deg=10.0 * i, dec_deg=20.0) for i in range(5)]
    )
    ids = [t.target_id for t in made]
    at = datetime(2026, 9, 1, tzinfo=UTC)
    # T0..T3 arrive in one batch (identical received_at), T4 a minute later
    for tid in ids[:4]:
        add_obs(session, tid, "ond", at, received_at=at)
    add_obs(session, ids[4], "ond", at, received_at=at + timedelta(minutes=1))
    session.commit()
    now = at + timedelta(hours=1)
    first = changed_targets(session, None, limit=3, now=now)
    assert first.target_ids == ids[:3] and first.more is True
    second = changed_targets(session, first.cursor, limit=3, now=now)
    assert second.target_ids == [ids[3], ids[4]] and second.more is False
    idle = changed_targets(session, second.cursor, limit=3, now=now)
    assert idle.target_ids == [] and idle.cursor == second.cursor
    # a new observation of T1 brings T1 back; one received just now waits for the settle time
    add_obs(session, ids[1], "ond", at, received_at=now - timedelta(minutes=5))
    add_obs(session, ids[2], "ond", at, received_at=now - timedelta(seconds=10))
    session.commit()
    assert changed_targets(session, idle.cursor, now=now).target_ids == [ids[1]]


def test_partition_spans() -> None:
    order = [str(i) for i in range(1000)]
    assert partition_spans(order, []) == []
    assert partition_spans(order, ["5", "7", "3"]) == [("3", "7")]
    assert partition_spans(order, ["1", "2", "500", "990"], max_gap=50) == [
        ("1", "2"),
        ("500", "500"),
        ("990", "990"),
    ]
    # no more than max_spans runs: the closest ranges merge first
    assert partition_spans(order, ["1", "2", "500", "990"], max_gap=50, max_spans=2) == [
        ("1", "2"),
        ("500", "990"),
    ]
    with pytest.raises(ValueError):
        partition_spans(order, ["nope"])
