"""Write the console's map of BiH (web/app/console/bih-map.json) from the public-domain boundary file.

    .venv/bin/python -m web.console_map

The municipality polygons are geoBoundaries gbOpen BIH ADM3 (Public Domain per its metadata; the file
and its source are described in putokaz/gazetteer and docs/domain.md §2). Each polygon takes the
entity and canton of the gazetteer entry whose centroid it has (the gazetteer computed its centroids
from these very polygons, so the nearest one is its own). Coordinates are projected (equirectangular
at 44° N) to a 1000-unit-wide box and rounded to whole units (≈ 0.3 km): a map to colour by entity or
canton, not a survey. No shape is drawn that is not in the source file.
"""

from __future__ import annotations

import itertools
import json
import math
from pathlib import Path
from typing import Any

from putokaz.gazetteer import build

WEB = Path(__file__).resolve().parent
OUT = WEB / "app" / "console" / "bih-map.json"
GAZETTEER = build.OUT
ADM3 = build.SOURCES / "geoBoundaries-BIH-ADM3_simplified.geojson"
WIDTH = 1000.0
SCALE_Y = 1 / math.cos(math.radians(44))  # one degree of latitude is longer than one of longitude here


def _rings(geometry: dict[str, Any]) -> list[list[list[float]]]:
    if geometry["type"] == "Polygon":
        return list(geometry["coordinates"])
    return [ring for polygon in geometry["coordinates"] for ring in polygon]


def _centroid(ring: list[list[float]]) -> tuple[float, float]:
    area = cx = cy = 0.0
    for (x0, y0), (x1, y1) in itertools.pairwise(ring):
        cross = x0 * y1 - x1 * y0
        area += cross
        cx += (x0 + x1) * cross
        cy += (y0 + y1) * cross
    if area == 0:
        return ring[0][0], ring[0][1]
    return cx / (3 * area), cy / (3 * area)


def main() -> None:
    places = json.loads(GAZETTEER.read_text())["places"]
    units = [p for p in places if p["kind"] != "city" or not p.get("comprises")]
    features = json.loads(ADM3.read_text())["features"]
    rings = [r for f in features for r in _rings(f["geometry"])]
    min_x = min(x for r in rings for x, _ in r)
    max_x = max(x for r in rings for x, _ in r)
    max_y = max(y for r in rings for _, y in r)
    k = WIDTH / (max_x - min_x)

    def project(x: float, y: float) -> tuple[int, int]:
        return round((x - min_x) * k), round((max_y - y) * k * SCALE_Y)

    out = []
    height = 0
    for feature in features:
        outer = max(_rings(feature["geometry"]), key=len)
        cx, cy = _centroid(outer)
        place = min(units, key=lambda p: (p["longitude"] - cx) ** 2 + (p["latitude"] - cy) ** 2)
        parts = []
        for ring in _rings(feature["geometry"]):
            points: list[tuple[int, int]] = []
            for x, y in ring:
                point = project(x, y)
                if not points or point != points[-1]:
                    points.append(point)
                height = max(height, point[1])
            if len(points) >= 3:
                parts.append("M" + "L".join(f"{px},{py}" for px, py in points) + "Z")
        out.append({"name": place["name"], "entity": place["entity"], "canton": place["canton"], "d": "".join(parts)})
    source = json.loads(GAZETTEER.read_text())["source"]["boundaries"]
    OUT.write_text(
        json.dumps(
            {
                "source": source["from"],
                "licence": source["licence"],
                "note": "Projected and rounded by web/console_map.py; entity and canton from putokaz/gazetteer.",
                "width": int(WIDTH),
                "height": height,
                "municipalities": out,
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        + "\n"
    )
    print(f"{len(out)} municipalities -> {OUT.relative_to(WEB.parent)} ({OUT.stat().st_size // 1024} kB)")


if __name__ == "__main__":
    main()
