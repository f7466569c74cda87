"""The observing loop as an explicit state machine, with safety checked before every transition.

One `cycle()` does: heartbeat and outbox drain when due (best effort: the network may be gone),
safety, target selection (server list or the cached one, re-checked locally), slew, the
exposure plan frame by frame, and queuing each observation in the outbox. Unsafe at any point
means park and wait; a device error means park and report. Anything unexpected (a bug, an answer
nobody foresaw) means error, park, and a retry after `error_holdoff_seconds`: a cycle never
leaves the machine in a state the next cycle cannot leave.
"""

from __future__ import annotations

import json
import logging
import math
import shutil
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np

from datas_core.sky.altaz import ApparentPlaces, airmass
from datas_core.sky.night import sun_altitude_grid_deg
from site_agent.config import LocalPlan, SiteConfig
from site_agent.devices.base import (
    DeviceError,
    Devices,
    DeviceStatus,
    TargetHint,
    with_deadline,
)
from site_agent.health import AgentHealth, json_safe
from site_agent.local_plans import LocalQueue, plan_actions, plan_seconds
from site_agent.outbox import Outbox, OutboxFull
from site_agent.safety import SafetyMonitor, Verdict
from site_agent.server_client import ServerClient, ServerRejected, ServerUnavailable
from site_agent.target_cache import TargetCache
from site_agent.target_list import NetworkTarget, TargetListError, read_entries, read_target_list
from site_agent.uploader import DrainReport, drain_frames, drain_observations

log = logging.getLogger("datas.agent")

TRANSITIONS: dict[str, set[str]] = {
    "starting": {"ready", "error", "parking"},
    "ready": {"selecting", "parking", "ready", "error"},
    "selecting": {"slewing", "ready", "parking", "error"},
    "slewing": {"exposing", "parking", "error"},
    "exposing": {"exposing", "slewing", "uploading", "parking", "error"},
    "uploading": {"ready", "parking", "error"},
    "parking": {"parked", "error"},
    "parked": {"ready", "safe-hold", "parked", "error"},
    "safe-hold": {"ready", "safe-hold", "parking", "error"},
    "error": {"parking", "ready", "error"},
}
# States a cycle passes through and must never end in; found at the start of a cycle, the last
# one was cut short.
IN_FLIGHT = {"selecting", "slewing", "exposing", "uploading", "parking"}


class IllegalTransition(Exception):
    pass


class CycleInterrupted(Exception):
    pass


@dataclass
class Location:
    latitude: float
    longitude: float
    altitude_limit_deg: float = 20.0


@dataclass
class CycleReport:
    state: str
    observed: list[int] = field(default_factory=list)
    reasons: list[str] = field(default_factory=list)
    queued: int = 0
    sent: int = 0
    frames_sent: int = 0
    server_reachable: bool | None = None


@dataclass
class Job:
    """What one cycle observes: a network target or a local plan, as actions."""

    key: str
    name: str
    target_id: int | None
    ra_deg: float | None
    dec_deg: float | None
    actions: list[tuple[str, dict[str, Any]]]
    plan: LocalPlan | None = None
    hint: TargetHint | None = None  # the target as the server describes it (the simulator)


class Agent:
    def __init__(
        self,
        config: SiteConfig,
        devices: Devices,
        client: ServerClient,
        outbox: Outbox | None = None,
        clock: Any = time.time,
        agent_version: str = "dev",
    ) -> None:
        self.config = config
        self.devices = devices
        self.client = client
        self.clock = clock
        state_dir = config.state_dir
        state_dir.mkdir(parents=True, exist_ok=True)
        self.outbox = outbox or Outbox(
            state_dir / "outbox.sqlite3", max_bytes=int(config.outbox.max_mb * 1024 * 1024)
        )
        self.cache = TargetCache(state_dir / "targets.json", config.target_cache_hours * 3600)
        self.safety = SafetyMonitor(config.safety, config.alarms)
        self.state = "starting"
        self.paused = False
        self.location: Location | None = None
        self.last_poll = -float("inf")
        self.last_heartbeat = -float("inf")
        self.last_verdict: Verdict | None = None
        self.agent_version = agent_version
        self.frames_dir = state_dir / "frames"
        self.local = LocalQueue(config.plans, state_dir / "local_plans.json")
        self.skip_until: dict[str, float] = {}
        self.photometry = _local_photometry(config)
        self.history: list[tuple[float, str, str]] = []  # (time, from, to)
        self.health = AgentHealth()
        self.uploads_held_until = -float("inf")  # after the server refused the key
        self._checked: Verdict | None = None  # this cycle's safety verdict, once it has one

    def close(self) -> None:
        self.client.close()
        self.outbox.close()

    # -- state machine -------------------------------------------------------------------
    def goto(self, new: str, why: str = "") -> None:
        if new not in TRANSITIONS[self.state]:
            raise IllegalTransition(f"{self.state} -> {new}")
        if new != self.state:
            log.info("state %s -> %s%s", self.state, new, f" ({why})" if why else "")
            self.history.append((self.clock(), self.state, new))
        self.state = new

    def _enter_error(self, why: str) -> None:
        """Every state may go to error; an unknown one (a bug) is overridden, never kept."""
        if "error" in TRANSITIONS.get(self.state, set()):
            self.goto("error", why)
            return
        log.error("state %s is unknown; forcing error (%s)", self.state, why)
        self.history.append((self.clock(), self.state, "error"))
        self.state = "error"

    # -- inputs ----------------------------------------------------------------------------
    def site_location(self) -> Location:
        """From the server, cached on disk so an offline start still knows where it is."""
        if self.location is not None:
            return self.location
        path = self.config.state_dir / "site.json"
        try:
            site = self.client.site(self.config.site_id)
            location = _location(site)
            path.write_text(json.dumps(site))
        except (ServerUnavailable, ServerRejected, ValueError) as exc:
            try:
                location = _location(json.loads(path.read_text()))
            except (OSError, ValueError) as cached:
                raise DeviceError(
                    f"the site's position is unknown: the server did not give it ({exc}) and "
                    f"the cached copy in {path} is unusable ({cached})"
                ) from exc
        self.location = location
        return location

    def sun_altitude(self, when: float) -> float:
        loc = self.site_location()
        jd = when / 86400.0 + 2440587.5
        return float(sun_altitude_grid_deg(jd, [loc.latitude], [loc.longitude])[0, 0])

    def verdict(self) -> tuple[Verdict, dict[str, DeviceStatus]]:
        now = self.clock()
        statuses = self.devices.statuses()
        try:
            weather = with_deadline(self.devices.weather.read, 10, "weather station")
        except DeviceError as exc:
            weather = None
            statuses["weather"] = DeviceStatus("weather", "error", str(exc))
        free = shutil.disk_usage(self.config.state_dir).free / 1024 / 1024
        v = self.safety.check(now, self.sun_altitude(now), weather, statuses, free)
        self.last_verdict = v
        return v, statuses

    # -- one cycle ---------------------------------------------------------------------------
    def cycle(self) -> CycleReport:
        report = CycleReport(state=self.state)
        self._checked = None
        try:
            self._cycle(report)
        except Exception as exc:  # a bug or an unforeseen answer must never wedge the loop
            self._fail(exc, report)
        report.state = self.state
        return report

    def _cycle(self, report: CycleReport) -> None:
        if self.state in IN_FLIGHT:
            raise CycleInterrupted(f"the previous cycle stopped while {self.state}")
        now = self.clock()
        verdict, statuses = self.verdict()
        self._checked = verdict
        self._heartbeat(now, verdict, statuses, report)
        self._drain(report)
        if self.state == "starting":
            self.goto("ready", "started")
        if not verdict.safe or self.paused:
            self._park_and_hold(verdict.reasons or ["paused by the owner"])
            report.reasons = verdict.reasons or ["paused"]
            return
        if self.health.holding(now):
            left = (self.health.retry_at or now) - now
            report.reasons = [f"{self.health.error}; observing again in {left:.0f} s"]
            return
        if self.state in ("parked", "safe-hold", "error"):
            self.goto("ready", "retrying after an error" if self.health.error else "safe again")
        self.goto("selecting")
        target = self._select(now, report)
        if target is None:
            self.goto("ready", "nothing observable")
            self.health.recovered()
            return
        try:
            self._observe(target, report)
        except _Unsafe as exc:
            self._park_and_hold([str(exc)])
            report.reasons.append(str(exc))
        except DeviceError as exc:
            log.error("device failure on %s: %s", target.name, exc)
            # the next cycle tries the next target; this one waits its turn
            self.skip_until[target.key] = now + self.config.failed_target_retry_minutes * 60
            self.goto("error", str(exc))
            self._park_and_hold([str(exc)])
            report.reasons.append(str(exc))
        self._drain(report)
        self.health.recovered()

    def _fail(self, exc: Exception, report: CycleReport) -> None:
        """Error, park, and hold off before observing again; the heartbeat says why."""
        where = self.state
        reason = f"{type(exc).__name__} while {where}: {exc}"[:500]
        log.error("unexpected failure: %s", reason, exc_info=exc)
        now = self.clock()
        self.health.failed(reason, now + self.config.error_holdoff_seconds)
        report.reasons.append(reason)
        try:
            self._enter_error(reason)
            if self._park(reason):
                self.goto("error", "holding off after the failure")
        except Exception as again:  # parking itself failed oddly: stay in error, retry next cycle
            log.error("could not park after the failure: %s", again, exc_info=again)
            self._enter_error(f"park failed: {again}")
        try:
            self._heartbeat(now, self._checked, self._statuses(), report, force=True)
        except Exception as again:  # reporting must not be what stops the agent
            log.error("could not report the failure: %s", again, exc_info=again)

    def _statuses(self) -> dict[str, DeviceStatus]:
        try:
            return self.devices.statuses()
        except Exception as exc:
            return {"devices": DeviceStatus("devices", "error", f"{type(exc).__name__}: {exc}")}

    def _heartbeat(
        self,
        now: float,
        verdict: Verdict | None,
        statuses: dict[str, DeviceStatus],
        report: CycleReport,
        force: bool = False,
    ) -> None:
        if not force and now - self.last_heartbeat < self.config.heartbeat_seconds:
            return
        weather_status = statuses.get("weather")
        reasons = list(verdict.reasons) if verdict else []
        if self.health.error:
            reasons.append(self.health.error)
        payload = {
            "state": self.state,
            "weather": {  # no verdict (the check itself failed): unknown, not safe
                "safe": None if verdict is None else verdict.safe and not self.paused,
                **_weather_fields(weather_status),
            },
            "devices": {
                **{name: s.as_dict() for name, s in statuses.items()},
                "agent": self.health.as_dict(),
                "outbox": self.outbox.stats(),  # the backlog an operator watches
            },
            "agent_version": self.agent_version,
            "message": "; ".join(reasons)[:2000] or None,
        }
        try:
            self.client.heartbeat(self.config.site_id, json_safe(payload))
            self.last_heartbeat = now
            report.server_reachable = True
        except (ServerUnavailable, ServerRejected) as exc:
            log.warning("heartbeat not delivered: %s", exc)
            report.server_reachable = False

    def _drain(self, report: CycleReport) -> None:
        if self.clock() < self.uploads_held_until:
            return
        tries = self.config.outbox.max_tries
        last = drain_observations(self.outbox, self.client, max_tries=tries)
        report.sent += last.sent
        if not (last.server_down or last.auth_refused):
            last = drain_frames(
                self.outbox,
                self.client,
                self.config.site_id,
                max_tries=tries,
                keep_files=self.config.outbox.keep_frames,
            )
            report.frames_sent += last.sent
        if last.server_down:
            report.server_reachable = False
        self._note_uploads(last)

    def _note_uploads(self, result: DrainReport) -> None:
        if result.auth_refused:
            # A wrong key refuses every item alike: keep them all queued and ask again later.
            self.uploads_held_until = self.clock() + self.config.poll_seconds
            self.health.uploads = (
                f"stopped: the server refused the key ({result.auth_refused}); items stay "
                "queued and go out once the key is fixed"
            )
            log.error("uploads stopped: %s", self.health.uploads)
        elif result.server_down:
            self.health.uploads = "waiting: the server is unreachable"
        else:
            self.health.uploads = "ok"

    def _park(self, why: str) -> bool:
        """Park the mount and close the roof over it; False (state error) if that failed."""
        if self.state in ("parked", "safe-hold"):
            return True
        if self.state not in TRANSITIONS or "parking" not in TRANSITIONS[self.state]:
            self._enter_error(why)
        self.goto("parking", why)
        try:
            with_deadline(
                self.devices.mount.park, self.config.device_deadline_seconds * 4, "mount park"
            )
            # A roof closes over a parked mount; one that does not close keeps the error.
            self.devices.close_dome(self.config.dome.timeout_seconds)
            self.goto("parked")
            return True
        except DeviceError as exc:
            log.error("could not park: %s", exc)
            self.goto("error", str(exc))
            return False

    def _park_and_hold(self, reasons: list[str]) -> None:
        if self._park("; ".join(reasons)):
            self.goto("safe-hold", "; ".join(reasons))

    # -- selecting -----------------------------------------------------------------------------
    def _targets(self, now: float, report: CycleReport) -> list[NetworkTarget]:
        """The server's list, checked entry by entry (bad entries skipped and reported); the
        cached list while the server is away or answers something that is not a list."""
        if now - self.last_poll >= self.config.poll_seconds:
            try:
                checked = read_target_list(self.client.targets(self.config.site_id, count=20))
            except (ServerUnavailable, ServerRejected, TargetListError) as exc:
                log.warning("target list not refreshed, using the cached one: %s", exc)
                self.health.target_list = f"not refreshed: {exc}"[:500]
                if not isinstance(exc, TargetListError):  # that one answered, if wrongly
                    report.server_reachable = False
            else:
                for reason in checked.rejected:
                    log.error("target list entry skipped: %s", reason)
                self.health.list_refreshed(checked.rejected)
                self.cache.store([t.as_dict() for t in checked.targets], now)
                self.last_poll = now
                report.server_reachable = True
        # Re-checked: a cache written by an older agent may hold what this one refuses.
        return read_entries(self.cache.load(now) or []).targets

    def _select(self, now: float, report: CycleReport) -> Job | None:
        """The first observable job: from the network list (server or cache) in `network`
        mode, falling back to the local plans when neither has anything; from the local
        plans in `sequential` and `repeat` modes. Targets that just failed wait their turn."""
        if self.config.mode == "network":
            job = self._network_job(now, report)
            if job is not None or not self.local.plans:
                return job
            log.info("no network target; observing the local plans")
        return self._local_job(now)

    def _network_job(self, now: float, report: CycleReport) -> Job | None:
        candidates = [t for t in self._targets(now, report) if self.skip_until.get(t.key, 0) <= now]
        if not candidates:
            return None
        jobs = [_network_target_job(t) for t in candidates]
        ok = self._observable(
            now,
            [(float(j.ra_deg or 0.0), float(j.dec_deg or 0.0)) for j in jobs],
            [plan_seconds(j.actions) for j in jobs],
        )
        return next((job for job, fits in zip(jobs, ok, strict=True) if fits), None)

    def _local_job(self, now: float) -> Job | None:
        mode = "repeat" if self.config.mode == "repeat" else "sequential"
        for plan in self.local.candidates(mode, now):
            key = f"plan:{plan.name}"
            if self.skip_until.get(key, 0) > now:
                continue
            actions = plan_actions(plan)
            if plan.ra_deg is not None and plan.dec_deg is not None:
                fits = self._observable(now, [(plan.ra_deg, plan.dec_deg)], [plan_seconds(actions)])
                if not fits[0]:
                    continue
            return Job(key, plan.name, plan.target_id, plan.ra_deg, plan.dec_deg, actions, plan)
        return None

    def _observable(
        self, now: float, positions: list[tuple[float, float]], seconds: list[float]
    ) -> list[bool]:
        """Above the altitude limit now and still when the plan ends (it fits before setting)."""
        loc = self.site_location()
        when = datetime.fromtimestamp(now, tz=timezone.utc)
        places = ApparentPlaces.of([p[0] for p in positions], [p[1] for p in positions], when)
        alt_now = places.altitude_deg(loc.latitude, loc.longitude, when)
        out = []
        for i, s in enumerate(seconds):
            end = datetime.fromtimestamp(now + s, tz=timezone.utc)
            alt_end = float(
                places.subset(np.array([i])).altitude_deg(loc.latitude, loc.longitude, end)[0]
            )
            out.append(
                bool(alt_now[i] >= loc.altitude_limit_deg and alt_end >= loc.altitude_limit_deg)
            )
        return out

    # -- observing -----------------------------------------------------------------------------
    def _time_factor(self) -> float:
        return self.config.simulator.time_factor if self.config.driver == "simulator" else 1.0

    def _require_safe(self) -> None:
        verdict, _ = self.verdict()
        if not verdict.safe or self.paused:
            raise _Unsafe("; ".join(verdict.reasons) or "paused by the owner")

    def _observe(self, job: Job, report: CycleReport) -> None:
        """Carry out a job's actions; light frames of a known target become observations."""
        self._require_safe()
        self.goto("slewing", job.name)
        self.devices.announce_target(job.hint)
        self.devices.open_dome(self.config.dome.timeout_seconds)  # before the mount moves
        with_deadline(
            self.devices.mount.unpark, self.config.device_deadline_seconds, "mount unpark"
        )
        pointing = (job.ra_deg, job.dec_deg)
        for kind, params in job.actions:
            if kind == "slew":
                pointing = (float(params["ra_deg"]), float(params["dec_deg"]))
                if self.state != "slewing":
                    self.goto("slewing", job.name)
                ra_deg, dec_deg = pointing

                def slew(ra: float = ra_deg, dec: float = dec_deg) -> None:
                    self.devices.mount.slew(ra, dec)

                with_deadline(slew, self.config.device_deadline_seconds * 4, "mount slew")
            elif kind in ("expose", "dark", "flat"):
                self._expose(job, kind, params, pointing, report)
            elif kind == "wait":
                self._require_safe()
                time.sleep(min(float(params.get("seconds") or 0.0), 3600.0) * self._time_factor())
            elif kind == "log":
                log.info("plan %s: %s", job.name, params.get("message"))
        if self.state == "slewing":  # a plan without exposures
            self.goto("exposing", job.name)
        self.goto("uploading")
        if job.target_id is not None:
            report.observed.append(job.target_id)
        if job.plan is not None:
            self.local.finished(
                job.plan, "repeat" if self.config.mode == "repeat" else "sequential"
            )
        self.goto("ready")

    def _expose(
        self,
        job: Job,
        kind: str,
        params: dict[str, Any],
        pointing: tuple[float | None, float | None],
        report: CycleReport,
    ) -> None:
        light = kind != "dark"
        filt = params.get("filter") or ("V" if light else None)
        seconds = float(params.get("exposure_sec") or (1.0 if kind == "flat" else 30.0))
        if filt is not None:
            try:
                with_deadline(
                    lambda: self.devices.wheel.select(filt),
                    self.config.device_deadline_seconds,
                    "filter wheel",
                )
            except DeviceError as exc:
                raise DeviceError(f"cannot use filter {filt!r}: {exc}") from exc
        for _ in range(int(params.get("count") or 1)):
            self._require_safe()
            self.goto("exposing", f"{job.name} {kind} {filt or ''} {seconds:g}s")
            frame = with_deadline(
                lambda: self.devices.camera.expose(seconds, light, filt or "DARK"),
                seconds * self._time_factor() + self.config.device_deadline_seconds,
                "camera exposure",
            )
            if kind != "expose":
                frame.header["IMAGETYP"] = "Dark Frame" if kind == "dark" else "Flat Field"
            ra, dec = pointing
            record = None
            if (
                kind == "expose"
                and job.target_id is not None
                and ra is not None
                and dec is not None
            ):
                record = self._observation(job, frame, filt, seconds, ra, dec)
            frame_id = record["observation_id"] if record else f"{kind}-{uuid.uuid4()}"
            frame_path = self._save_frame(frame, frame_id)
            try:
                if record is not None and self.outbox.put("observation", frame_id, record):
                    report.queued += 1
                if self.config.outbox.upload_frames and kind == "expose":
                    self.outbox.put(
                        "frame",
                        f"frame:{frame_id}",
                        {
                            "path": str(frame_path),
                            "observation_id": frame_id if record else None,
                            "target_id": job.target_id,
                        },
                    )
            except OutboxFull as exc:
                log.error("%s", exc)
                raise DeviceError(str(exc)) from exc

    def _observation(
        self, job: Job, frame: Any, filt: str | None, seconds: float, ra: float, dec: float
    ) -> dict[str, Any]:
        loc = self.site_location()
        observed_at = datetime.fromisoformat(str(frame.header["DATE-OBS"])).replace(
            tzinfo=timezone.utc
        )
        alt = float(
            ApparentPlaces.of([ra], [dec], observed_at).altitude_deg(
                loc.latitude, loc.longitude, observed_at
            )[0]
        )
        record: dict[str, Any] = {
            "observation_id": str(uuid.uuid4()),
            "target_id": job.target_id,
            "site_id": self.config.site_id,
            "observed_at": observed_at.isoformat(),
            "exposure_sec": seconds,
            "filter": filt,
            "airmass": round(float(airmass(alt)), 4) if alt > 1 else None,
            "ra_deg": ra,
            "dec_deg": dec,
        }
        if self.photometry is not None:
            record.update(self.photometry.measure(frame, ra, dec))
        else:
            record["quality_flags"] = ["no_photometry"]
        return record

    def _save_frame(self, frame: Any, observation_id: str) -> Path:
        from datas_core.science.frame_io import write_fits

        self.frames_dir.mkdir(parents=True, exist_ok=True)
        header = {**frame.header, "OBSID": observation_id}
        return write_fits(self.frames_dir / f"{observation_id}.fits", frame.data, header)


class _Unsafe(Exception):
    pass


def _local_photometry(config: SiteConfig) -> Any:
    if not config.photometry.enabled:
        return None
    from site_agent.photometry import LocalPhotometry  # numpy/sep/scipy only when used

    catalog = config.photometry.catalog
    if catalog is None:
        catalog = "synthetic" if config.driver == "simulator" else "none"
    return LocalPhotometry(catalog, config.photometry.band)


def _network_target_job(target: NetworkTarget) -> Job:
    """A ranked target as actions: slew there, then its exposure plan."""
    expose = {"filter": target.filter, "exposure_sec": target.exposure_sec, "count": target.count}
    ra, dec = target.ra_deg, target.dec_deg
    hint = TargetHint(
        target.name,
        ra,
        dec,
        target.magnitude,
        target.target_type,
        target.classification,
        dict(target.variability),
    )
    return Job(
        key=target.key,
        name=target.name,
        target_id=target.target_id,
        ra_deg=ra,
        dec_deg=dec,
        actions=[("slew", {"ra_deg": ra, "dec_deg": dec}), ("expose", expose)],
        hint=hint,
    )


def _location(site: object) -> Location:
    """The site's position, refused when it is not one (a NaN latitude would make the Sun's
    altitude NaN, and every check against it pass)."""
    if not isinstance(site, dict):
        raise ValueError("the site record is not an object")
    values = [site.get("latitude"), site.get("longitude"), site.get("altitude_limit_deg") or 20.0]
    try:
        lat, lon, limit = (float(v) for v in values)  # type: ignore[arg-type]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"the site record has no usable position ({exc})") from exc
    if not all(math.isfinite(v) for v in (lat, lon, limit)):
        raise ValueError(f"the site's position is not finite: {lat}, {lon}, limit {limit}")
    if not (-90 <= lat <= 90 and -180 <= lon <= 360 and 0 <= limit < 90):
        raise ValueError(f"the site's position is out of range: {lat}, {lon}, limit {limit}")
    return Location(lat, lon, limit)


def _weather_fields(status: DeviceStatus | None) -> dict[str, Any]:
    if status is None:
        return {}
    props = status.properties
    out = {}
    if "cloud_pct" in props:
        out["cloud_cover_pct"] = props["cloud_pct"]
    if "wind_ms" in props:
        out["wind_speed_ms"] = props["wind_ms"]
    return out
