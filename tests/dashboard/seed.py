"""A small network with every case the dashboard must show: each site state, a site that never
sent a heartbeat, flagged and unflagged points in two bands from two sites, a target named with
HTML, a target with no observations, frames in each outcome, alerts, a campaign, rankings."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from datas_core.db import make_engine, make_session_factory, session_scope
from datas_core.db.models import Frame, Observation, SiteStatus
from datas_core.scheduling.inputs import SchedulerConfig
from datas_core.schemas.alerts import AlertIn
from datas_core.schemas.auth import UserCreate
from datas_core.schemas.campaigns import CampaignCreate
from datas_core.schemas.sites import Heartbeat, SiteCreate, Weather
from datas_core.schemas.targets import AliasIn, TargetCreate
from datas_core.services import alerts, auth, campaigns, rankings, sites, targets
from datas_core.sky.night import midnight_longitude_deg
from datas_core.sky.time import julian_date, local_sidereal_time_deg

ADMIN = ("ada", "admin-password-1")
READER = ("rey", "reader-password-1")
HOSTILE_NAME = '<script>window.pwned=1</script><b>Bold</b> & "quoted"'


@dataclass
class Seeded:
    site_ids: list[str]
    variable_id: int = 0
    hostile_id: int = 0
    lonely_id: int = 0
    campaign_id: int = 0
    points: int = 0
    flagged: int = 0
    observation_rows: int = 0
    states: dict[str, str] = field(default_factory=dict)


def _beat(state: str, safe: bool | None, devices: dict | None = None) -> Heartbeat:
    return Heartbeat(
        state=state,
        weather=Weather(safe=safe, cloud_cover_pct=10.0, humidity_pct=55.0, wind_speed_ms=3.0),
        devices=devices or {},
        agent_version="0.1.0",
    )


def seed(url: str) -> Seeded:
    now = datetime.now(timezone.utc)
    jd = float(julian_date(now))
    night_lon = midnight_longitude_deg(jd)
    zenith_ra = float(local_sidereal_time_deg(jd, night_lon))
    engine = make_engine(url)
    factory = make_session_factory(engine)
    # site_id, name, latitude, longitude, expected state on the map
    layout = [
        ("night-obs", "Night Observatory", 20.0, night_lon, "observing"),
        ("idle-obs", "Idle Observatory", 35.0, (night_lon + 40 + 180) % 360 - 180, "idle"),
        ("wet-obs", "Wet Observatory", -30.0, (night_lon - 50 + 180) % 360 - 180, "unsafe"),
        ("old-obs", "Silent Observatory", 50.0, (night_lon + 120 + 180) % 360 - 180, "offline"),
        (
            "new-obs",
            "Never Seen Observatory",
            -20.0,
            (night_lon - 120 + 180) % 360 - 180,
            "offline",
        ),
        ("paused-obs", "Paused Observatory", 10.0, (night_lon + 170 + 180) % 360 - 180, "paused"),
    ]
    out = Seeded(site_ids=[s[0] for s in layout], states={s[0]: s[4] for s in layout})
    with session_scope(factory) as s:
        for site_id, name, lat, lon, _state in layout:
            sites.create_site(
                s,
                SiteCreate(
                    site_id=site_id,
                    name=name,
                    latitude=lat,
                    longitude=lon,
                    filters=["B", "V"],
                    aperture_mm=300,
                    active=site_id != "paused-obs",
                ),
            )
        agent = {
            "error": None,
            "target_list": "ok",
            "rejected_targets": 1,
            "rejections": ["entry 4: ra_deg is not a number"],
            "rejected_targets_total": 3,
            "uploads": "ok",
            "outbox": {"pending": 12, "dead": 1, "frames_pending": 2},
        }
        devices = {
            "mount": {"state": "tracking", "message": "ok"},
            "camera": {"state": "exposing"},
            "agent": agent,
        }
        sites.record_heartbeat(s, "night-obs", _beat("exposing", True, devices))
        sites.record_heartbeat(s, "idle-obs", _beat("ready", True))
        sites.record_heartbeat(s, "wet-obs", _beat("safe-hold", False))
        sites.record_heartbeat(s, "paused-obs", _beat("ready", True))
        old = now - timedelta(hours=6)
        s.add(SiteStatus(site_id="old-obs", received_at=old, state="ready", weather={"safe": True}))
        sites.get_site(s, "old-obs").last_heartbeat_at = old
        made = targets.create_targets(
            s,
            [
                TargetCreate(
                    name="V1 Testis",
                    ra_deg=zenith_ra,
                    dec_deg=15.0,
                    priority=9,
                    magnitude=11.2,
                    target_type="variable_star",
                    total_needed=40,
                    aliases=[
                        AliasIn(alias="ZTF26aaaaaaa", source="ztf"),
                        AliasIn(alias="HD 1", source="simbad"),
                    ],
                ),
                TargetCreate(
                    name=HOSTILE_NAME, ra_deg=(zenith_ra + 3) % 360, dec_deg=12.0, priority=8
                ),
                TargetCreate(
                    name="Lonely Star", ra_deg=(zenith_ra + 6) % 360, dec_deg=10.0, priority=7
                ),
            ],
        )
        s.flush()
        out.variable_id, out.hostile_id, out.lonely_id = (t.target_id for t in made)
        frames = []
        for status, error in (
            ("reduced", None),
            ("failed", "solve_failed: no stars matched"),
            ("rejected", "too_large: 40000 x 40000 pixels"),
        ):
            fid = str(uuid.uuid4())
            frames.append(fid)
            s.add(
                Frame(
                    frame_id=fid,
                    site_id="night-obs",
                    target_id=out.variable_id,
                    filename=f"{status}.fits",
                    storage_key=f"frames/{fid}.fits",
                    sha256=uuid.uuid4().hex * 2,
                    size_bytes=1000,
                    status=status,
                    error=error,
                    uploaded_at=now - timedelta(hours=1),
                    results={"flags": ["clouds"], "zero_point": 21.3}
                    if status == "reduced"
                    else None,
                )
            )
        # 30 points: two bands, two sites; every 6th flagged; a few tonight at the night site.
        for i in range(30):
            site_id = "night-obs" if i % 2 == 0 else "idle-obs"
            band = "V" if i % 3 else "B"
            flagged = i % 6 == 0
            when = now - timedelta(hours=1 + i * 1.5)
            s.add(
                Observation(
                    observation_id=str(uuid.uuid4()),
                    target_id=out.variable_id,
                    site_id=site_id,
                    observed_at=when,
                    exposure_sec=30.0,
                    filter=band,
                    airmass=1.2,
                    magnitude=11.0 + 0.3 * ((i % 5) / 5) + (0.5 if band == "B" else 0.0),
                    mag_error=0.02,
                    zero_point=21.0 + 0.01 * i,
                    seeing_arcsec=2.0 + 0.05 * i,
                    quality_flags=["clouds"] if flagged else [],
                    frame_id=frames[0] if i == 0 else None,
                    received_at=when,
                )
            )
            out.points += 1
            out.flagged += int(flagged)
        s.add(
            Observation(
                observation_id=str(uuid.uuid4()),
                target_id=out.hostile_id,
                site_id="wet-obs",
                observed_at=now - timedelta(hours=2),
                filter="V",
                magnitude=13.0,
                mag_error=0.05,
                quality_flags=[],
                received_at=now,
            )
        )
        out.observation_rows = out.points + 1
        alerts.ingest_alert(
            s,
            AlertIn(
                feed="ztf",
                alert_id="ZTF26aaaaaaa-1",
                ra_deg=zenith_ra,
                dec_deg=15.0,
                magnitude=11.1,
            ),
        )
        alerts.ingest_alert(
            s,
            AlertIn(
                feed="tns",
                alert_id="2026abc",
                name="SN 2026abc",
                ra_deg=(zenith_ra + 90) % 360,
                dec_deg=-20.0,
                magnitude=16.0,
            ),
        )
        campaign = campaigns.create_campaign(
            s, CampaignCreate(name="Testis watch", description="Follow V1 Testis")
        )
        campaigns.add_targets(
            s, campaign.campaign_id, [out.variable_id, out.hostile_id, out.lonely_id]
        )
        out.campaign_id = campaign.campaign_id
        auth.create_user(s, UserCreate(username=ADMIN[0], password=ADMIN[1], role="admin"))
        auth.create_user(s, UserCreate(username=READER[0], password=READER[1], role="reader"))
    with session_scope(factory) as s:  # the real ranking, weather assumed clear
        run = rankings.compute_rankings(s, now, SchedulerConfig(), 15.0, assume_clear=True)
        rankings.store_rankings(s, run)
    engine.dispose()
    return out
