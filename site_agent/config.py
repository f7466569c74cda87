"""site.yaml: one file per site, validated at start with errors that name the key and the fix."""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from site_agent.devices.base import Limit


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ServerConfig(Strict):
    url: str = Field(description="The DATAS server, e.g. https://datas.example.org")
    key: str = Field(description="This site's API key (datas keys create --role site --site ID)")
    timeout_seconds: Annotated[float, Field(gt=0, le=300)] = 15.0

    @field_validator("url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://, e.g. http://127.0.0.1:8000")
        return value.rstrip("/")

    @field_validator("key")
    @classmethod
    def _key(cls, value: str) -> str:
        if not value.startswith("datas_") or value.count("_") < 2:
            raise ValueError("is not a DATAS key; keys look like datas_<id>_<secret>")
        return value


Reading = Literal["wind", "humidity", "cloud", "rain"]
READINGS: tuple[Reading, ...] = ("wind", "humidity", "cloud", "rain")


class SafetyConfig(Strict):
    sun_max_altitude_deg: Annotated[float, Field(ge=-18, le=0)] = -12.0
    max_wind_ms: Annotated[float, Field(gt=0, le=60)] = 12.0
    max_humidity_pct: Annotated[float, Field(gt=0, le=100)] = 90.0
    max_cloud_pct: Annotated[float, Field(ge=0, le=100)] = 70.0
    stale_seconds: Annotated[float, Field(gt=0, le=3600)] = 180.0
    holdoff_seconds: Annotated[float, Field(ge=0, le=7200)] = 900.0
    min_free_disk_mb: Annotated[float, Field(ge=0)] = 1024.0
    # A required reading the station does not give counts as unsafe; leave out what the station
    # cannot measure (the INDI weather simulator, for one, has no humidity or cloud sensor).
    required_readings: list[Reading] = Field(default_factory=lambda: list(READINGS))


class OutboxConfig(Strict):
    max_mb: Annotated[float, Field(gt=0)] = 500.0
    upload_frames: bool = False
    keep_frames: bool = True  # false: a frame's local file is deleted once the server has it
    # Sends an item gets while the server fails it and accepts others, before it is set aside
    # as dead (so one poisonous record cannot hold back the rest for ever).
    max_tries: Annotated[int, Field(ge=1, le=1000)] = 8


class SimulatorConfig(Strict):
    time_factor: Annotated[float, Field(gt=0, le=10)] = 1.0
    fail_after_exposures: int | None = None  # camera hangs after N exposures (fault test)
    cloud_pct: Annotated[float, Field(ge=0, le=100)] = 10.0
    wind_ms: Annotated[float, Field(ge=0, le=60)] = 3.0
    dome_fails_to_close: bool = False  # fault drill: the simulated shutter sticks


class FocuserConfig(Strict):
    enabled: bool = False


class DomeConfig(Strict):
    enabled: bool = False
    timeout_seconds: Annotated[float, Field(gt=0, le=1800)] = 180.0


class LimitRange(Strict):
    min: float | None = None
    max: float | None = None

    @model_validator(mode="after")
    def _range(self) -> LimitRange:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both, e.g. {min: 10}")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}; swap them")
        return self


# One field per property in site_agent.devices.base.LIMIT_PROPERTIES (a test keeps them equal).
class MountLimits(Strict):
    altitude_deg: LimitRange | None = None


class CameraLimits(Strict):
    temperature_c: LimitRange | None = None


class FocuserLimits(Strict):
    position: LimitRange | None = None
    temperature_c: LimitRange | None = None


class DomeLimits(Strict):
    azimuth_deg: LimitRange | None = None


class LimitsConfig(Strict):
    """A device property outside its range makes the device out-of-range: the agent parks."""

    mount: MountLimits = Field(default_factory=MountLimits)
    camera: CameraLimits = Field(default_factory=CameraLimits)
    focuser: FocuserLimits = Field(default_factory=FocuserLimits)
    dome: DomeLimits = Field(default_factory=DomeLimits)

    def as_limits(self) -> dict[str, dict[str, Limit]]:
        out: dict[str, dict[str, Limit]] = {}
        for device in type(self).model_fields:
            ranges = getattr(self, device)
            for name in type(ranges).model_fields:
                r = getattr(ranges, name)
                if r is not None:
                    out.setdefault(device, {})[name] = Limit(r.min, r.max)
        return out


class AlarmRule(Strict):
    when: str = Field(
        description="e.g. 'wind_ms > 15' (weather keys: wind_ms, humidity_pct, "
        "cloud_pct, rain, sky_temp_c)"
    )
    action: Literal["pause", "park", "notify"]

    @field_validator("when")
    @classmethod
    def _condition(cls, value: str) -> str:
        parse_condition(value)
        return value


ALARM_KEYS = {"wind_ms", "humidity_pct", "cloud_pct", "rain", "sky_temp_c", "free_disk_mb"}
OPERATORS = {">": float.__gt__, "<": float.__lt__, ">=": float.__ge__, "<=": float.__le__}


def parse_condition(text: str) -> tuple[str, str, float]:
    parts = text.split()
    if len(parts) != 3 or parts[0] not in ALARM_KEYS or parts[1] not in OPERATORS:
        raise ValueError(
            f"{text!r} is not a condition; write '<key> <op> <number>' with key one of "
            f"{', '.join(sorted(ALARM_KEYS))} and op one of {' '.join(OPERATORS)}"
        )
    try:
        return parts[0], parts[1], float(parts[2])
    except ValueError:
        raise ValueError(f"{parts[2]!r} in {text!r} is not a number") from None


class PhotometryConfig(Strict):
    """Local photometry of every frame (datas_core.science, the server pipeline's code)."""

    enabled: bool = True
    # A CSV (id,ra_deg,dec_deg,<band>...), 'tycho2-index', 'synthetic', 'gaia-dr3' / 'apass9'
    # (VizieR, cached), or 'none'. Empty: 'synthetic' with the simulator, else 'none' (flux only).
    catalog: str | None = None
    band: str | None = None


class PlanStep(Strict):
    """One line of a YAML exposure sequence."""

    kind: Literal["light", "dark", "flat"] = "light"
    filter: str | None = None
    exposure_sec: Annotated[float, Field(gt=0, le=3600)] = 30.0
    count: Annotated[int, Field(ge=1, le=1000)] = 1


class LocalPlan(Strict):
    """An owner's own observation: a YAML sequence, or a scripted plan (+ CSV of arguments)."""

    name: str = Field(min_length=1, max_length=200)
    target_id: Annotated[int, Field(ge=1)] | None = None  # the server's id: observations report
    ra_deg: Annotated[float, Field(ge=0, lt=360)] | None = None
    dec_deg: Annotated[float, Field(ge=-90, le=90)] | None = None
    start: datetime | None = None  # sequential mode runs plans in start order, not before
    sequence: list[PlanStep] = Field(default_factory=list)
    repeats: Annotated[int, Field(ge=1, le=100)] = 1
    script: Path | None = None
    args_csv: Path | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> LocalPlan:
        if bool(self.sequence) == bool(self.script):
            raise ValueError("give either 'sequence:' (a list of steps) or 'script:' (a file)")
        lights = any(step.kind == "light" for step in self.sequence)
        if lights and (self.ra_deg is None or self.dec_deg is None):
            raise ValueError("light frames need ra_deg and dec_deg (degrees)")
        if self.args_csv is not None and self.script is None:
            raise ValueError("args_csv needs a script")
        return self


class SiteConfig(Strict):
    site_id: str = Field(min_length=1, max_length=64)
    server: ServerConfig
    driver: Literal["simulator", "alpaca", "indi"] = "simulator"
    device_url: str | None = Field(None, description="alpaca://HOST:PORT or indi://HOST:PORT")
    mode: Literal["network", "sequential", "repeat"] = "network"
    state_dir: Path = Path("datas-agent-state")
    poll_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    heartbeat_seconds: Annotated[float, Field(gt=0, le=3600)] = 60.0
    target_cache_hours: Annotated[float, Field(gt=0, le=240)] = 12.0
    control_port: Annotated[int, Field(ge=1024, le=65535)] = 8765
    device_deadline_seconds: Annotated[float, Field(gt=0, le=600)] = 30.0
    # After a device error on a target, the next cycle tries the next one; this one waits.
    failed_target_retry_minutes: Annotated[float, Field(ge=0, le=1440)] = 30.0
    # After an unexpected failure (a bug, an answer nobody foresaw): parked this long, then retry.
    error_holdoff_seconds: Annotated[float, Field(ge=0, le=86400)] = 300.0
    safety: SafetyConfig = Field(default_factory=SafetyConfig)
    outbox: OutboxConfig = Field(default_factory=OutboxConfig)
    simulator: SimulatorConfig = Field(default_factory=SimulatorConfig)
    focuser: FocuserConfig = Field(default_factory=FocuserConfig)
    dome: DomeConfig = Field(default_factory=DomeConfig)
    limits: LimitsConfig = Field(default_factory=LimitsConfig)
    alarms: list[AlarmRule] = Field(default_factory=list)
    photometry: PhotometryConfig = Field(default_factory=PhotometryConfig)
    plans: list[LocalPlan] = Field(default_factory=list)

    @field_validator("device_url")
    @classmethod
    def _device_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("alpaca://", "indi://")):
            raise ValueError("must look like alpaca://127.0.0.1:11111 or indi://127.0.0.1:7624")
        return value


class ConfigError(Exception):
    """What is wrong in site.yaml, where, and how to fix it."""


def load_config(path: Path) -> SiteConfig:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror}; create one with `datas-agent init`"
        ) from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise ConfigError(f"{path}{where}: not valid YAML ({problem})") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected keys like 'site_id:' and 'server:' at the top level")
    try:
        config = SiteConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(_explain(path, text, exc)) from exc
    override = os.environ.get("DATAS_SIM_TIME_FACTOR")
    if override:
        try:
            config.simulator = config.simulator.model_copy(
                update={"time_factor": SimulatorConfig(time_factor=float(override)).time_factor}
            )
        except (ValueError, ValidationError) as exc:
            raise ConfigError(
                f"DATAS_SIM_TIME_FACTOR={override!r}: a number in (0, 10], e.g. 0.01"
            ) from exc
    if not config.state_dir.is_absolute():
        config.state_dir = (path.parent / config.state_dir).resolve()
    catalog = config.photometry.catalog
    if catalog and catalog.lower().endswith(".csv") and not Path(catalog).is_absolute():
        config.photometry.catalog = str((path.parent / catalog).resolve())
    _check_plans(path, text, config)
    if config.driver != "simulator" and not config.device_url:
        raise ConfigError(
            f"{path}: driver {config.driver!r} needs device_url, e.g. "
            f"{'alpaca://127.0.0.1:11111' if config.driver == 'alpaca' else 'indi://127.0.0.1:7624'}"
        )
    return config


def _check_plans(path: Path, text: str, config: SiteConfig) -> None:
    """Scripts are resolved next to site.yaml and checked now: a hostile or broken plan is
    refused before the agent starts, naming the plan and the script's line."""
    from site_agent.local_plans import plan_actions
    from site_agent.plans import PlanError

    for number, plan in enumerate(config.plans):
        for attr in ("script", "args_csv"):
            value = getattr(plan, attr)
            if value is not None and not value.is_absolute():
                setattr(plan, attr, (path.parent / value).resolve())
        try:
            plan_actions(plan)
        except OSError as exc:
            raise ConfigError(
                f"{path}: plans.{number} ({plan.name}): cannot read {exc.filename}: {exc.strerror}"
            ) from exc
        except PlanError as exc:
            raise ConfigError(
                f"{path}: plans.{number} ({plan.name}): {plan.script}: {exc}"
            ) from exc


def _explain(path: Path, text: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = ".".join(str(p) for p in err["loc"])
        line = _line_of(text, [str(p) for p in err["loc"]])
        where = f" (line {line})" if line else ""
        value = err.get("input")
        shown = "" if err["type"] == "missing" else f": got {value!r}"
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "is not a setting of site.yaml (check the spelling; see docs/AGENT.md)"
        lines.append(f"{path}{where}: {key}{shown}: {message}")
    return "\n".join(lines)


def _line_of(text: str, keys: list[str]) -> int | None:
    """Best effort: the line where the last mapping key of the path appears."""
    names = [k for k in keys if not k.isdigit()]
    if not names:
        return None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip().startswith(f"{names[-1]}:"):
            return number
    return None


def config_dict_for_output(config: SiteConfig) -> dict[str, Any]:
    data = config.model_dump(mode="json")
    data["server"]["key"] = data["server"]["key"][:18] + "..."
    return data
