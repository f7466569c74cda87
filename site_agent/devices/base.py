"""Device interfaces, states and the deadline every hardware call runs under."""

from __future__ import annotations

import concurrent.futures
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
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
        return {"state": self.state, "message": self.message, **self.properties}


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
    data: NDArray[np.uint16]
    header: dict[str, Any]


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


@dataclass
class Devices:
    mount: Mount
    camera: Camera
    wheel: FilterWheel
    weather: WeatherStation

    def statuses(self) -> dict[str, DeviceStatus]:
        out = {}
        for name in ("mount", "camera", "wheel", "weather"):
            try:
                out[name] = with_deadline(getattr(self, name).status, 10, name)
            except DeviceError as exc:
                out[name] = DeviceStatus(name, "error", str(exc))
        return out
