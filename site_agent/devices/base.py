"""Device interfaces, states and the deadline every hardware call runs under."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, TypeVar

import numpy as np
from numpy.typing import NDArray

State = Literal["ok", "not-ready", "out-of-range", "error"]
T = TypeVar("T")


class DeviceError(Exception):
    """A device failed or did not answer in time; the device is now in the error state."""


def with_deadline(call: Callable[[], T], seconds: float, what: str) -> T:
    """Run a hardware call in its own daemon thread: a call that hangs keeps that thread,
    never the agent (and never blocks the agent's exit)."""
    future: concurrent.futures.Future[T] = concurrent.futures.Future()

    def run() -> None:
        try:
            future.set_result(call())
        except BaseException as exc:  # handed to the caller below
            future.set_exception(exc)

    threading.Thread(target=run, name=f"device: {what}", daemon=True).start()
    try:
        return future.result(timeout=seconds)
    except concurrent.futures.TimeoutError as exc:
        raise DeviceError(f"{what} did not answer within {seconds:.0f} s") from exc
    except DeviceError:
        raise
    except Exception as exc:  # drivers raise anything; the agent sees one kind of failure
        raise DeviceError(f"{what} failed: {type(exc).__name__}: {exc}") from exc


@dataclass
class DeviceStatus:
    name: str
    state: State = "ok"
    message: str | None = None
    properties: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {**self.properties, "state": self.state, "message": self.message}


@dataclass(frozen=True)
class Limit:
    """The allowed range of one named device property (either end may be open)."""

    min: float | None = None
    max: float | None = None


# The properties a limit can name, per device: every driver reports them under these names
# (a property a device cannot read is left out, and its limit is then not checked).
LIMIT_PROPERTIES: dict[str, tuple[str, ...]] = {
    "mount": ("altitude_deg",),
    "camera": ("temperature_c",),
    "focuser": ("position", "temperature_c"),
    "dome": ("azimuth_deg",),
}


def check_limits(status: DeviceStatus, limits: Mapping[str, Limit]) -> DeviceStatus:
    """An ok device with a property outside its limits becomes out-of-range, saying which.

    Errors and not-ready stay as they are, and a parked device is where it should be (a parked
    mount may point at the horizon), so its limits are not checked."""
    if status.state != "ok" or status.properties.get("parked") is True:
        return status
    problems = []
    for key, limit in limits.items():
        value = status.properties.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool):
            continue
        if limit.min is not None and value < limit.min:
            problems.append(f"{key} {value:g} below its limit {limit.min:g}")
        elif limit.max is not None and value > limit.max:
            problems.append(f"{key} {value:g} above its limit {limit.max:g}")
    if not problems:
        return status
    return replace(status, state="out-of-range", message="; ".join(problems))


@dataclass(frozen=True)
class WeatherReading:
    timestamp: float  # unix seconds
    wind_ms: float | None = None
    humidity_pct: float | None = None
    cloud_pct: float | None = None
    rain: bool | None = None
    sky_temp_c: float | None = None


@dataclass
class Frame:
    data: NDArray[np.integer[Any]]  # 16-bit from cameras; the simulator digitizes to 32 bits
    header: dict[str, Any]


@dataclass(frozen=True)
class TargetHint:
    """What the site was asked to observe, as the server's list describes it. Real hardware
    ignores it; the simulator renders the target into its sky (at its magnitude, varying)."""

    name: str
    ra_deg: float
    dec_deg: float
    magnitude: float | None = None
    target_type: str | None = None
    classification: str | None = None
    variability: dict[str, float] = field(default_factory=dict)  # period_days, epoch_jd, ...


class Mount(Protocol):
    def status(self) -> DeviceStatus: ...
    def slew(self, ra_deg: float, dec_deg: float) -> None: ...
    def park(self) -> None: ...
    def unpark(self) -> None: ...


class Camera(Protocol):
    def status(self) -> DeviceStatus: ...
    def expose(self, seconds: float, light: bool, filter_name: str) -> Frame: ...


class FilterWheel(Protocol):
    def status(self) -> DeviceStatus: ...
    def select(self, name: str) -> None: ...


class WeatherStation(Protocol):
    def status(self) -> DeviceStatus: ...
    def read(self) -> WeatherReading: ...


class Focuser(Protocol):
    """status() reports position, min_position and max_position (steps) and moving."""

    def status(self) -> DeviceStatus: ...
    def move_to(self, position: int) -> None: ...  # outside [min, max]: DeviceError


Shutter = Literal["open", "closed", "opening", "closing", "error", "unknown"]


class Dome(Protocol):
    """A dome or roll-off roof; status() reports `shutter` (a Shutter value)."""

    def status(self) -> DeviceStatus: ...
    def open(self) -> None: ...  # returns when the shutter is open
    def close(self) -> None: ...  # returns when the shutter is closed


@dataclass
class Devices:
    mount: Mount
    camera: Camera
    wheel: FilterWheel
    weather: WeatherStation
    focuser: Focuser | None = None  # many sites have neither focuser nor dome
    dome: Dome | None = None
    limits: dict[str, dict[str, Limit]] = field(default_factory=dict)  # device -> property
    # A command that failed (e.g. the dome did not close) keeps its device in the error state
    # until the same kind of command succeeds, whatever the device itself reports meanwhile.
    faults: dict[str, str] = field(default_factory=dict)
    # Told what is about to be observed (None: nothing known); only the simulator listens.
    on_target: Callable[[TargetHint | None], None] | None = None

    def announce_target(self, hint: TargetHint | None) -> None:
        if self.on_target is not None:
            self.on_target(hint)

    def names(self) -> list[str]:
        optional = [n for n in ("focuser", "dome") if getattr(self, n) is not None]
        return ["mount", "camera", "wheel", "weather", *optional]

    def statuses(self) -> dict[str, DeviceStatus]:
        out = {}
        for name in self.names():
            try:
                status = with_deadline(getattr(self, name).status, 10, name)
            except DeviceError as exc:
                status = DeviceStatus(name, "error", str(exc))
            if name in self.faults:
                said = status.message if status.state == "error" else None
                message = "; ".join(m for m in (self.faults[name], said) if m)
                status = replace(status, state="error", message=message)
            out[name] = check_limits(status, self.limits.get(name, {}))
        return out

    def open_dome(self, seconds: float) -> None:
        """Open the dome (if the site has one) before observing; a failure is a DeviceError."""
        self._dome_command("open", seconds)

    def close_dome(self, seconds: float) -> None:
        """Close the dome (if any); a failure stays a dome error until a close succeeds."""
        self._dome_command("close", seconds)

    def _dome_command(self, command: Literal["open", "close"], seconds: float) -> None:
        if self.dome is None:
            return
        try:
            with_deadline(getattr(self.dome, command), seconds, f"dome {command}")
        except DeviceError as exc:
            self.faults["dome"] = f"the dome did not {command}: {exc}"
            raise DeviceError(self.faults["dome"]) from exc
        self.faults.pop("dome", None)
