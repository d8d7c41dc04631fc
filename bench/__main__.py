"""Runs every benchmark in bench/ and writes a summary table to bench/results/summary.md."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
SKIP = {"__init__.py", "__main__.py", "common.py"}


def main(argv: list[str]) -> int:
    wanted = set(argv)
    scripts = sorted(p for p in HERE.glob("*.py") if p.name not in SKIP and (not wanted or p.stem in wanted))
    rows: list[list[str]] = []
    failed = []
    for script in scripts:
        print(f"== {script.stem}", flush=True)
        started = time.monotonic()
        process = subprocess.run(
            [sys.executable, "-m", f"bench.{script.stem}"],
            cwd=HERE.parent,
            capture_output=True,
            text=True,
            timeout=1800,
        )
        sys.stdout.write(process.stdout)
        if process.returncode != 0:
            failed.append(script.stem)
            sys.stderr.write(process.stderr[-4000:])
        for line in process.stdout.splitlines():
            if line.startswith("RESULT\t"):
                rows.append([script.stem, *line.split("\t")[1:]])
        print(f"   ({time.monotonic() - started:.0f} s)", flush=True)
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    table = ["| bench | figure | value | unit | target |", "|---|---|---|---|---|"]
    table += ["| " + " | ".join(row + [""] * (5 - len(row))) + " |" for row in rows]
    (out / "summary.md").write_text("\n".join(table) + "\n")
    print("\n".join(table))
    if failed:
        print(f"benchmarks that failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
