"""Static files shipped in this package (no CDN), and the world's land as an SVG built once
from world-atlas' land-110m.json (vendor/, ISC license)."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, Response

from datas_core.dashboard.geo import land_path, topology_rings

STATIC = Path(__file__).resolve().parent / "static"
TYPES = {".css": "text/css", ".js": "text/javascript", ".json": "application/json"}
# Asset URLs carry ?v=<version>, so a day of caching never serves an old script after upgrade.
CACHE = {"Cache-Control": "public, max-age=86400"}

router = APIRouter()


@lru_cache(maxsize=1)
def land_svg() -> bytes:
    topology = json.loads((STATIC / "vendor" / "land-110m.json").read_text())
    path = land_path(topology_rings(topology, "land"))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 360 180" '
        'preserveAspectRatio="none">'
        f'<path d="{path}" fill="#cfd8c4" stroke="#8a9a7a" stroke-width="0.15"/></svg>'
    ).encode()


@router.get("/static/land.svg")
def land() -> Response:
    return Response(land_svg(), media_type="image/svg+xml", headers=CACHE)


@lru_cache(maxsize=1)
def _files() -> dict[str, Path]:
    """The allow-list: exactly the files in static/ (no path from the URL touches the disk)."""
    return {p.name: p for p in STATIC.iterdir() if p.is_file() and p.suffix in TYPES}


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    path = _files().get(name)
    if path is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(path, media_type=TYPES[path.suffix], headers=CACHE)
