"""Plane geometry of boundary polygons, for maps: rings, bounds, label points, widths, and the Web-Mercator
view (center and zoom) that shows a box.

Geometries are GeoJSON Polygon or MultiPolygon dicts in longitude/latitude degrees (WGS 84). Matching a
boundary file to the units is tracker.geo's job; drawing is tracker.figures.maps'.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np

from tracker.errors import InputError


def fit_view(
    bounds: tuple[float, float, float, float], width_px: int = 600, height_px: int = 500, margin: float = 0.08
) -> tuple[dict, float]:
    """Center and zoom of a Plotly map (MapLibre, 512-px tiles) that show `bounds` with a small margin."""
    lon_min, lat_min, lon_max, lat_max = bounds
    x0, x1 = merc_x(lon_min), merc_x(lon_max)
    y0, y1 = merc_y(lat_max), merc_y(lat_min)  # y grows southwards
    dx, dy = abs(x1 - x0), abs(y1 - y0)
    usable_w = max(width_px, 1) * (1 - 2 * margin)
    usable_h = max(height_px, 1) * (1 - 2 * margin)
    zooms = [math.log2(usable_w / (dx * 512))] if dx > 0 else []
    zooms += [math.log2(usable_h / (dy * 512))] if dy > 0 else []
    zoom = min(zooms) if zooms else 12.0
    zoom = float(min(max(zoom, 0.0), 16.0))
    center = {"lat": merc_lat((y0 + y1) / 2), "lon": (lon_min + lon_max) / 2}
    return center, round(zoom, 3)


def pad_bounds(bounds: tuple[float, float, float, float], fraction: float = 0.1, minimum: float = 0.05):
    """`bounds` grown on every side by `fraction` of their span (at least `minimum` degrees)."""
    lon_min, lat_min, lon_max, lat_max = bounds
    px = max((lon_max - lon_min) * fraction, minimum)
    py = max((lat_max - lat_min) * fraction, minimum)
    return (lon_min - px, lat_min - py, lon_max + px, lat_max + py)


def label_point(geometry: dict) -> tuple[float, float]:
    """A point well inside the (largest) polygon, for a label: its centroid when that lies inside and
    away from the edges, else the sampled interior point farthest from any edge. Returns (lon, lat)."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    rings = [[np.asarray(r, dtype=float)[:, :2] for r in poly if len(r) >= 3] for poly in polygons]
    rings = [p for p in rings if p]
    if not rings:
        raise InputError("a boundary polygon has no coordinates")
    poly = max(rings, key=lambda p: abs(_ring_area(p[0])))
    outer = poly[0]
    scale = math.cos(math.radians(float(outer[:, 1].mean())))  # metres per degree: lon shrinks with lat

    cx, cy = _ring_centroid(outer)
    lon_min, lat_min = outer.min(axis=0)
    lon_max, lat_max = outer.max(axis=0)
    n = 24
    gx, gy = np.meshgrid(np.linspace(lon_min, lon_max, n + 2)[1:-1], np.linspace(lat_min, lat_max, n + 2)[1:-1])
    candidates = np.vstack([[cx, cy], np.column_stack([gx.ravel(), gy.ravel()])])
    inside = _inside(candidates, poly)
    depth = np.full(len(candidates), -1.0)
    depth[inside] = _edge_distance(candidates[inside], poly, scale)
    best = int(np.argmax(depth[1:])) + 1
    if depth[0] >= 0.5 * depth[best]:
        return float(cx), float(cy)
    return float(candidates[best, 0]), float(candidates[best, 1])


def rings(geometry: dict) -> Iterator[np.ndarray]:
    """Every ring (exterior and holes) of a Polygon or MultiPolygon, as an (n, 2) array of lon, lat."""
    polygons = geometry["coordinates"] if geometry["type"] == "MultiPolygon" else [geometry["coordinates"]]
    for poly in polygons:
        for ring in poly:
            yield np.asarray(ring, dtype=float).reshape(-1, np.shape(ring)[-1] if len(ring) else 2)[:, :2]


def bounds(geometries: list[dict], source: str) -> tuple[float, float, float, float]:
    """lon_min, lat_min, lon_max, lat_max of the geometries; InputError (naming `source`) for malformed
    coordinates or ones that are not longitude/latitude degrees."""
    try:
        points = np.vstack([ring for geometry in geometries for ring in rings(geometry) if len(ring)])
    except (ValueError, TypeError, IndexError, KeyError):
        raise InputError(f"{source}: a boundary polygon has malformed coordinates") from None
    if not np.isfinite(points).all():
        raise InputError(f"{source}: a boundary polygon has non-numeric coordinates")
    lon_min, lat_min = points.min(axis=0)
    lon_max, lat_max = points.max(axis=0)
    if lon_min < -180 or lon_max > 180 or lat_min < -90 or lat_max > 90:
        raise InputError(
            f"{source}: coordinates are not longitude/latitude degrees (WGS 84), e.g. a VN-2000 projection; "
            "re-project the file to EPSG:4326 (ogr2ogr -t_srs EPSG:4326 out.geojson in.geojson)"
        )
    return float(lon_min), float(lat_min), float(lon_max), float(lat_max)


def width_at(geometry: dict, lat: float) -> float:
    """Longitude span of the polygon edges crossing the parallel `lat` (the widest piece, roughly)."""
    crossings = []
    for ring in rings(geometry):
        if len(ring) < 2:
            continue
        x0, y0 = ring[:, 0], ring[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
        hit = (y0 > lat) != (y1 > lat)
        crossings.extend((x0[hit] + (lat - y0[hit]) * (x1[hit] - x0[hit]) / (y1[hit] - y0[hit])).tolist())
    crossings.sort()
    pieces = [b - a for a, b in zip(crossings[::2], crossings[1::2], strict=False)]
    return max(pieces, default=0.0)


def shift_lat(lat: float, pixels: float, zoom: float) -> float:
    """The latitude `pixels` screen pixels north (negative: south) of `lat` on a map at `zoom`."""
    return merc_lat(merc_y(lat) - pixels / (512 * 2**zoom))


# --- Web Mercator: x and y from 0 to 1 across the world, y growing southwards ------------------------


def merc_x(lon: float) -> float:
    return (lon + 180.0) / 360.0


def merc_y(lat: float) -> float:
    lat = max(min(lat, 85.05112878), -85.05112878)
    s = math.sin(math.radians(lat))
    return 0.5 - math.log((1 + s) / (1 - s)) / (4 * math.pi)


def merc_lat(y: float) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * y))))


# --- internals -------------------------------------------------------------------------------------


def _ring_area(ring: np.ndarray) -> float:
    x, y = ring[:, 0], ring[:, 1]
    return 0.5 * float(np.dot(x, np.roll(y, -1)) - np.dot(np.roll(x, -1), y))


def _ring_centroid(ring: np.ndarray) -> tuple[float, float]:
    x, y = ring[:, 0], ring[:, 1]
    x1, y1 = np.roll(x, -1), np.roll(y, -1)
    cross = x * y1 - x1 * y
    area = cross.sum() / 2
    if abs(area) < 1e-15:
        return float(x.mean()), float(y.mean())
    return float(((x + x1) * cross).sum() / (6 * area)), float(((y + y1) * cross).sum() / (6 * area))


def _inside(points: np.ndarray, poly: list[np.ndarray]) -> np.ndarray:
    """Even-odd rule over the exterior ring and its holes."""
    result = np.zeros(len(points), dtype=bool)
    px, py = points[:, :1], points[:, 1:2]
    for ring in poly:
        x0, y0 = ring[:, 0], ring[:, 1]
        x1, y1 = np.roll(x0, -1), np.roll(y0, -1)
        crosses = (y0 > py) != (y1 > py)
        with np.errstate(divide="ignore", invalid="ignore"):
            xs = x0 + (py - y0) * (x1 - x0) / (y1 - y0)
        result ^= (crosses & (px < xs)).sum(axis=1) % 2 == 1
    return result


def _edge_distance(points: np.ndarray, poly: list[np.ndarray], scale: float) -> np.ndarray:
    """Distance (in latitude degrees) from each point to the nearest edge of the polygon."""
    edges_a = np.vstack([ring for ring in poly]) * [scale, 1.0]
    edges_b = np.vstack([np.roll(ring, -1, axis=0) for ring in poly]) * [scale, 1.0]
    p = points * [scale, 1.0]
    ab = edges_b - edges_a
    length2 = np.maximum((ab**2).sum(axis=1), 1e-18)
    best = np.full(len(p), np.inf)
    for start in range(0, len(edges_a), 2048):
        a, d, n2 = edges_a[start : start + 2048], ab[start : start + 2048], length2[start : start + 2048]
        ap = p[:, None, :] - a[None, :, :]
        t = np.clip((ap * d[None, :, :]).sum(axis=2) / n2[None, :], 0, 1)
        nearest = a[None, :, :] + t[:, :, None] * d[None, :, :]
        best = np.minimum(best, np.sqrt(((p[:, None, :] - nearest) ** 2).sum(axis=2)).min(axis=1))
    return best
