"""World-map geometry in an equirectangular projection: x = lon + 180, y = 90 - lat (degrees),
so the whole map is a 360 x 180 SVG viewBox.

- `land_path`: TopoJSON land shapes (world-atlas' land-110m) as one SVG path. A ring crossing
  the 180-degree meridian is unwrapped into one continuous ring and drawn twice (shifted by 360
  degrees); the viewBox clips both copies, so nothing draws a stripe across the map. A ring
  around a pole (Antarctica) is closed along that pole's edge.
- `night_path`: the night side of the Earth bounded by the day/night terminator, from the
  subsolar point (datas_core.sky.sun).
"""

from __future__ import annotations

import math
from datetime import datetime
from typing import Any

from datas_core.sky.sun import sun_radec_rad
from datas_core.sky.time import gmst_rad, julian_date

Ring = list[tuple[float, float]]


def _arcs(topology: dict[str, Any]) -> list[Ring]:
    """Absolute (lon, lat) points of every arc (delta-decoded, de-quantized)."""
    transform = topology.get("transform")
    out: list[Ring] = []
    for arc in topology["arcs"]:
        if transform:
            (sx, sy), (tx, ty) = transform["scale"], transform["translate"]
            x = y = 0
            points = []
            for dx, dy, *_ in arc:
                x += dx
                y += dy
                points.append((x * sx + tx, y * sy + ty))
        else:
            points = [(float(p[0]), float(p[1])) for p in arc]
        out.append(points)
    return out


def _ring(arcs: list[Ring], indexes: list[int]) -> Ring:
    points: Ring = []
    for i in indexes:
        arc = arcs[i] if i >= 0 else arcs[~i][::-1]
        points.extend(arc[1:] if points else arc)  # consecutive arcs share an end point
    return points


def topology_rings(topology: dict[str, Any], name: str = "land") -> list[Ring]:
    arcs = _arcs(topology)
    rings: list[Ring] = []
    geometries = topology["objects"][name].get("geometries", [topology["objects"][name]])
    for geometry in geometries:
        kind, coords = geometry.get("type"), geometry.get("arcs") or []
        polygons = [coords] if kind == "Polygon" else coords if kind == "MultiPolygon" else []
        for polygon in polygons:
            rings.extend(_ring(arcs, ring) for ring in polygon)
    return rings


def _unwrap(ring: Ring) -> Ring:
    out = [ring[0]]
    for lon, lat in ring[1:]:
        prev = out[-1][0]
        lon += 360.0 * round((prev - lon) / 360.0)  # the nearest copy of lon to the previous
        out.append((lon, lat))
    return out


def _svg_ring(points: Ring, shift: float) -> str:
    cmds = []
    for i, (lon, lat) in enumerate(points):
        cmds.append(f"{'M' if i == 0 else 'L'}{lon + shift + 180:.1f} {90 - lat:.1f}")
    return "".join(cmds) + "Z"


def land_path(rings: list[Ring]) -> str:
    parts = []
    for ring in rings:
        if len(ring) < 3:
            continue
        points = _unwrap(ring)
        winding = points[-1][0] - points[0][0]
        if abs(winding) > 180.0:  # encircles a pole: close the ring along the map's edge
            pole = -90.0 if sum(p[1] for p in points) < 0 else 90.0
            points = [*points, (points[-1][0], pole), (points[0][0], pole)]
        low = min(p[0] for p in points)
        high = max(p[0] for p in points)
        for shift in (-360.0, 0.0, 360.0):
            if high + shift > -180.0 and low + shift < 180.0:  # this copy shows on the map
                parts.append(_svg_ring(points, shift))
    return "".join(parts)


def subsolar_point(when: datetime) -> tuple[float, float]:
    """(longitude, latitude) in degrees where the Sun is at the zenith."""
    jd = julian_date(when)
    ra, dec = sun_radec_rad(jd)
    lon = math.degrees(float(ra) - float(gmst_rad(jd)))
    return (lon + 180.0) % 360.0 - 180.0, math.degrees(float(dec))


def night_path(when: datetime, step_deg: float = 2.0) -> str:
    """SVG path (same projection) of the area where the Sun is below the horizon."""
    sun_lon, sun_lat = subsolar_point(when)
    # At an equinox the terminator runs through the poles; keep tan() finite.
    dec = math.radians(sun_lat if abs(sun_lat) > 0.01 else math.copysign(0.01, sun_lat or 1.0))
    points = []
    n = round(360.0 / step_deg)
    for i in range(n + 1):
        lon = -180.0 + i * step_deg
        lat = math.degrees(math.atan(-math.cos(math.radians(lon - sun_lon)) / math.tan(dec)))
        points.append((lon, lat))
    pole = -90.0 if dec > 0 else 90.0  # the pole turned away from the Sun is in the night
    points += [(180.0, pole), (-180.0, pole)]
    return _svg_ring(points, 0.0)
