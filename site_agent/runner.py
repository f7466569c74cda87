"""Build a running agent from site.yaml, and the `run` loop."""

from __future__ import annotations

import logging
import signal
import threading

from datas_core import __version__
from site_agent.config import SiteConfig
from site_agent.control import ControlPortBusy, ControlServer
from site_agent.devices.base import DeviceError, Devices
from site_agent.devices.simulator import SimOptions, simulator_devices
from site_agent.executor import Agent
from site_agent.server_client import ServerClient

log = logging.getLogger("datas.agent")
IDLE_SECONDS = 10.0


def build_devices(config: SiteConfig) -> Devices:
    devices = _driver_devices(config)
    devices.limits = config.limits.as_limits()
    return devices


def _driver_devices(config: SiteConfig) -> Devices:
    optional = {"focuser": config.focuser.enabled, "dome": config.dome.enabled}
    if config.driver == "simulator":
        sim = config.simulator
        return simulator_devices(
            SimOptions(
                time_factor=sim.time_factor,
                cloud_pct=sim.cloud_pct,
                wind_ms=sim.wind_ms,
                fail_after_exposures=sim.fail_after_exposures,
                dome_fails_to_close=sim.dome_fails_to_close,
            ),
            **optional,
        )
    if config.driver == "alpaca" and config.device_url:
        try:
            from site_agent.devices.alpaca_driver import alpaca_devices
        except ImportError as exc:
            raise DeviceError(
                f"the alpaca driver needs alpyca: pip install 'datas[agent]' ({exc})"
            ) from exc
        return alpaca_devices(config.device_url, **optional)
    if config.driver == "indi" and config.device_url:
        from site_agent.devices.indi_driver import indi_devices

        return indi_devices(config.device_url, **optional)
    raise DeviceError(f"driver {config.driver!r} needs device_url (see docs/AGENT.md)")


def build_agent(config: SiteConfig) -> Agent:
    client = ServerClient(config.server.url, config.server.key, config.server.timeout_seconds)
    return Agent(config, build_devices(config), client, agent_version=__version__)


def run_forever(agent: Agent, stop: threading.Event | None = None) -> None:
    """Cycle until stopped (Ctrl-C, SIGTERM or `datas-agent stop`); park before leaving."""
    stop = stop or threading.Event()
    try:
        control = ControlServer(agent, agent.config.control_port, stop)
    except ControlPortBusy:
        agent.close()  # nothing moved yet: the mount was never unparked
        raise
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    control.start()
    log.info(
        "agent for %s running; control on 127.0.0.1:%d",
        agent.config.site_id,
        agent.config.control_port,
    )
    try:
        while not stop.is_set():
            try:
                report = agent.cycle()
            except Exception:  # the loop must survive anything a cycle throws
                log.exception("cycle failed; retrying after a pause")
                stop.wait(IDLE_SECONDS)
                continue
            if not report.observed:
                stop.wait(IDLE_SECONDS)
    finally:
        log.info("stopping: parking the mount")
        agent._park_and_hold(["agent stopped"])
        control.close()
        agent.close()
