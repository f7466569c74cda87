"""site.yaml: the written template loads; every mistake names the key, the value and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from site_agent.config import ConfigError, load_config
from site_agent.template import render

KEY = "datas_0123456789ab_secretsecret"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(text)
    return path


def test_the_template_is_a_working_config(tmp_path: Path) -> None:
    path = _write(
        tmp_path, render("ond", "http://127.0.0.1:8000", KEY, "simulator", None, "site.yaml")
    )
    config = load_config(path)
    assert config.site_id == "ond" and config.driver == "simulator"
    assert config.state_dir == (tmp_path / "datas-agent-state").resolve()
    assert config.safety.holdoff_seconds == 900


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("max_wind_ms: 12", "max_wind_ms: -4"), ["safety.max_wind_ms", "-4", "greater than 0"]),
        (("url: http://127.0.0.1:8000", "url: 127.0.0.1:8000"), ["server.url", "http://"]),
        (("driver: simulator", "driver: ascom"), ["driver", "'ascom'", "simulator"]),
        (("poll_seconds: 60", "pol_seconds: 60"), ["pol_seconds", "not a setting"]),
        (("driver: simulator", "driver: alpaca"), ["device_url", "alpaca://"]),
        (("alarms: []", 'alarms: [{when: "gust > 3", action: park}]'), ["alarms.0.when", "gust"]),
        (("site_id: ond", "site_id: [ond"), ["line", "not valid YAML"]),
    ],
)
def test_mistakes_are_explained(tmp_path: Path, change: tuple[str, str], expected: list[str]):
    text = render("ond", "http://127.0.0.1:8000", KEY, "simulator", None, "site.yaml")
    assert change[0] in text
    path = _write(tmp_path, text.replace(change[0], change[1], 1))
    with pytest.raises(ConfigError) as info:
        load_config(path)
    message = str(info.value)
    for part in expected:
        assert part in message, message
    if "line" in message:
        assert "site.yaml (line" in message or "at line" in message


def test_missing_file_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="datas-agent init"):
        load_config(tmp_path / "nope.yaml")


def test_sim_time_factor_from_the_environment(tmp_path: Path, monkeypatch) -> None:
    path = _write(tmp_path, render("ond", "http://127.0.0.1:8000", KEY, "simulator", None, "s"))
    monkeypatch.setenv("DATAS_SIM_TIME_FACTOR", "0.01")
    assert load_config(path).simulator.time_factor == 0.01
    monkeypatch.setenv("DATAS_SIM_TIME_FACTOR", "fast")
    with pytest.raises(ConfigError, match="DATAS_SIM_TIME_FACTOR"):
        load_config(path)
