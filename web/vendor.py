"""Refresh the vendored browser libraries from the npm registry (`make web-vendor`).

The app has no build step: each library is copied as the ES module its package publishes, with a
header naming the package, version and licence. Bare imports between packages (`from "preact"`)
are rewritten to relative paths, because an import map would need an inline script, which the CSP
forbids. Pin a new version in VENDORED, run the target, test, commit the result.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

WEB = Path(__file__).resolve().parent


@dataclass(frozen=True)
class Vendored:
    package: str
    version: str
    files: dict[str, str]  # path inside the package tarball -> path under web/
    rewrites: tuple[tuple[str, str], ...] = ()


VENDORED = (
    Vendored("preact", "11.2.0", {"dist/preact.mjs": "app/vendor/preact.js"}),
    Vendored(
        "preact",
        "11.2.0",
        {"hooks/dist/hooks.mjs": "app/vendor/preact-hooks.js"},
        ((r'from\s*"preact"', 'from"./preact.js"'), (r"from\s*'preact'", 'from"./preact.js"')),
    ),
    Vendored("htm", "3.1.1", {"dist/htm.module.js": "app/vendor/htm.js"}),
    Vendored("idb", "8.0.4", {"build/index.js": "app/vendor/idb.js"}),
    # The coordinator's console draws its charts with uPlot (canvas, small, no dependencies).
    Vendored(
        "uplot", "1.6.32", {"dist/uPlot.esm.js": "app/vendor/uplot.js", "dist/uPlot.min.css": "app/vendor/uplot.css"}
    ),
    Vendored(
        "swagger-ui-dist",
        "5.35.0",
        {"swagger-ui-bundle.js": "docs/swagger-ui-bundle.js", "swagger-ui.css": "docs/swagger-ui.css"},
    ),
)


def fetch(package: str, version: str, into: Path) -> Path:
    """`npm pack` downloads the published tarball exactly as the registry serves it."""
    out = subprocess.run(
        ["npm", "pack", f"{package}@{version}", "--json", "--silent", "--pack-destination", str(into)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    filename = json.loads(out)[0]["filename"]
    target = into / package
    target.mkdir(parents=True, exist_ok=True)
    with tarfile.open(into / filename.replace("@", "").replace("/", "-")) as archive:
        archive.extractall(target, filter="data")
    return target / "package"


def licence_of(root: Path) -> str:
    return json.loads((root / "package.json").read_text()).get("license", "see package")


def refresh(latest: bool) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        unpacked: dict[tuple[str, str], Path] = {}
        for item in VENDORED:
            version = item.version
            if latest:
                version = subprocess.run(
                    ["npm", "view", item.package, "version"], check=True, capture_output=True, text=True
                ).stdout.strip()
            key = (item.package, version)
            if key not in unpacked:
                unpacked[key] = fetch(item.package, version, Path(tmp))
            root = unpacked[key]
            licence = licence_of(root)
            for source, dest in item.files.items():
                text = (root / source).read_text()
                # A trailing sourceMappingURL would point at a file we do not ship.
                text = re.sub(r"\n//# sourceMappingURL=\S+\s*$", "\n", text)
                for pattern, replacement in item.rewrites:
                    text = re.sub(pattern, replacement, text)
                header = (
                    f"/* {item.package}@{version} ({source}), licence {licence}; "
                    f"vendored from the npm registry by web/vendor.py */\n"
                )
                (WEB / dest).write_text(header + text)
                print(f"{item.package}@{version} {source} -> web/{dest}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--latest", action="store_true", help="take each package's newest version instead of the pin")
    refresh(parser.parse_args().latest)
