"""Map geometry: land shapes without stripes across the map, and the night side."""

from __future__ import annotations

import itertools
import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest

from datas_core.dashboard.geo import land_path, night_path, subsolar_point, topology_rings
from datas_core.dashboard.network import site_state

LAND = Path(__file__).resolve().parents[2] / "datas_api/dashboard/static/vendor/land-110m.json"


def _rings(path: str) -> list[list[tuple[float, float]]]:
    rings = []
    for part in path.split("Z"):
        nums = [float(v) for v in re.findall(r"-?\d+(?:\.\d+)?", part)]
        if nums:
            rings.append(list(zip(nums[::2], nums[1::2], strict=True)))
    return rings


def test_land_rings_never_jump_across_the_map() -> None:
    rings = _rings(land_path(topology_rings(json.loads(LAND.read_text()))))
    assert len(rings) > 100
    for ring in rings:
        for (x0, y0), (x1, y1) in itertools.pairwise(ring):
            along_a_pole = y0 == y1 and y0 in (0.0, 180.0)  # Antarctica closes along the edge
            assert abs(x1 - x0) < 90 or along_a_pole, "a segment across the map draws a stripe"


def _inside(x: float, y: float, ring: list[tuple[float, float]]) -> bool:
    hit = False
    for (x0, y0), (x1, y1) in zip(ring, ring[1:] + ring[:1], strict=True):
        if (y0 > y) != (y1 > y) and x < x0 + (y - y0) * (x1 - x0) / (y1 - y0):
            hit = not hit
    return hit


@pytest.mark.parametrize("month", [3, 6, 9, 12])
def test_night_covers_the_antisolar_point_not_the_subsolar_one(month: int) -> None:
    when = datetime(2026, month, 21, 7, 30, tzinfo=timezone.utc)
    lon, lat = subsolar_point(when)
    ring = _rings(night_path(when))[0]
    assert not _inside(lon + 180, 90 - lat, ring)
    anti_lon = lon + 180 if lon < 0 else lon - 180
    assert _inside(anti_lon + 180, 90 + lat, ring)


def test_subsolar_point_at_noon_utc_is_near_greenwich() -> None:
    lon, lat = subsolar_point(datetime(2026, 6, 21, 12, 0, tzinfo=timezone.utc))
    assert abs(lon) < 1.5 and abs(lat - 23.44) < 0.1


def test_site_states() -> None:
    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    recent = datetime(2025, 12, 31, 23, 59, tzinfo=timezone.utc)
    assert site_state(False, recent, "exposing", {}, now, 15) == "paused"
    assert site_state(True, None, None, None, now, 15) == "offline"
    assert site_state(
        True, datetime(2025, 12, 31, tzinfo=timezone.utc), "exposing", {}, now, 15
    ) == ("offline")
    assert site_state(True, recent, "exposing", {"safe": False}, now, 15) == "unsafe"
    assert site_state(True, recent, "exposing", {"safe": True}, now, 15) == "observing"
    assert site_state(True, recent, "parked", {"safe": True}, now, 15) == "idle"
